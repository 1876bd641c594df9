//! Combining CRCs of concatenated data from the parts' CRCs and lengths (the GF(2) matrix
//! method of zlib's `crc32_combine`, for any reflected CRC of width 32 or 64 with all-ones
//! init and xor-out: CRC-32, CRC-32C and CRC-64/NVME). Full-object checksums of multipart
//! uploads are computed this way without re-reading the data.

fn times(mat: &[u64], mut vec: u64) -> u64 {
    let mut sum = 0;
    let mut i = 0;
    while vec != 0 {
        if vec & 1 != 0 {
            sum ^= mat.get(i).copied().unwrap_or(0);
        }
        vec >>= 1;
        i += 1;
    }
    sum
}

fn square(out: &mut [u64], mat: &[u64]) {
    for (n, o) in out.iter_mut().enumerate() {
        *o = times(mat, mat.get(n).copied().unwrap_or(0));
    }
}

/// CRC of `A || B` from `crc(A)`, `crc(B)` and `len(B)`, for a reflected CRC of `width` bits
/// with reflected polynomial `poly`.
pub fn combine(mut crc1: u64, crc2: u64, mut len2: u64, poly: u64, width: usize) -> u64 {
    if len2 == 0 {
        return crc1;
    }
    let mut odd = vec![0u64; width];
    let mut even = vec![0u64; width];
    // The operator for one zero bit.
    odd[0] = poly;
    let mut row = 1u64;
    for o in odd.iter_mut().skip(1) {
        *o = row;
        row <<= 1;
    }
    square(&mut even, &odd); // two zero bits
    square(&mut odd, &even); // four zero bits
    loop {
        square(&mut even, &odd);
        if len2 & 1 != 0 {
            crc1 = times(&even, crc1);
        }
        len2 >>= 1;
        if len2 == 0 {
            break;
        }
        square(&mut odd, &even);
        if len2 & 1 != 0 {
            crc1 = times(&odd, crc1);
        }
        len2 >>= 1;
        if len2 == 0 {
            break;
        }
    }
    crc1 ^ crc2
}

/// Reflected CRC-32 (IEEE) polynomial.
pub const CRC32: u64 = 0xEDB8_8320;
/// Reflected CRC-32C polynomial.
pub const CRC32C: u64 = 0x82F6_3B78;
/// Reflected CRC-64/NVME polynomial.
pub const CRC64NVME: u64 = 0x9A6C_9329_AC4B_C9B5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_equals_whole() {
        let (a, b) = (&b"hello "[..], &b"world, this is a longer second part"[..]);
        let whole = [a, b].concat();
        let c32 = |d: &[u8]| u64::from(crc32fast::hash(d));
        assert_eq!(
            combine(c32(a), c32(b), b.len() as u64, CRC32, 32),
            c32(&whole)
        );
        let c32c = |d: &[u8]| u64::from(crc32c::crc32c(d));
        assert_eq!(
            combine(c32c(a), c32c(b), b.len() as u64, CRC32C, 32),
            c32c(&whole)
        );
        let c64 = |d: &[u8]| {
            let mut h = crc64fast_nvme::Digest::new();
            h.write(d);
            h.sum64()
        };
        assert_eq!(
            combine(c64(a), c64(b), b.len() as u64, CRC64NVME, 64),
            c64(&whole)
        );
        assert_eq!(combine(c64(a), c64(b""), 0, CRC64NVME, 64), c64(a));
    }
}
