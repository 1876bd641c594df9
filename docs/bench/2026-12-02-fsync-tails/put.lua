local paths, body, n = {}, nil, 0
local counter = 0
function setup(thread) thread:set("tid", counter); counter = counter + 1 end
function init(args)
  for line in io.lines("/tmp/pw/put.paths") do paths[#paths + 1] = line end
  local f = io.open("/tmp/pw/body", "rb"); body = f:read("*a"); f:close()
end
function request()
  local i = ((n * 2 + tid) % #paths) + 1
  n = n + 1
  return wrk.format("PUT", paths[i], {["Content-Type"] = "application/octet-stream"}, body)
end
