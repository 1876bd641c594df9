//! Conversions between the frozen types of a format version and the live types the code works
//! with, field by field. The macros declare a frozen type and both conversions in one place;
//! the conversion from the live type destructures it whole, so a field added to a live type
//! does not compile until someone decides which format version carries it.

use std::collections::{BTreeMap, BTreeSet};

/// A conversion that moves every field (the frozen and the live form of one record).
pub trait Conv<T> {
    /// `self` in the other form.
    fn conv(self) -> T;
}

macro_rules! same {
    ($($t:ty),* $(,)?) => {
        $(impl Conv<$t> for $t {
            fn conv(self) -> $t {
                self
            }
        })*
    };
}

same!(
    (),
    u8,
    u16,
    u32,
    u64,
    i64,
    bool,
    String,
    bytes::Bytes,
    [u8; 16]
);

impl<A: Conv<B>, B> Conv<Vec<B>> for Vec<A> {
    fn conv(self) -> Vec<B> {
        self.into_iter().map(Conv::conv).collect()
    }
}

impl<A: Conv<B>, B> Conv<Option<B>> for Option<A> {
    fn conv(self) -> Option<B> {
        self.map(Conv::conv)
    }
}

impl<A: Conv<B>, B> Conv<Box<B>> for Box<A> {
    fn conv(self) -> Box<B> {
        Box::new((*self).conv())
    }
}

impl<A: Conv<C>, B: Conv<D>, C, D> Conv<(C, D)> for (A, B) {
    fn conv(self) -> (C, D) {
        (self.0.conv(), self.1.conv())
    }
}

impl<A: Conv<C>, B: Conv<D>, C, D> Conv<Result<C, D>> for Result<A, B> {
    fn conv(self) -> Result<C, D> {
        self.map(Conv::conv).map_err(Conv::conv)
    }
}

impl<A: Conv<B>, B: Ord> Conv<BTreeSet<B>> for BTreeSet<A> {
    fn conv(self) -> BTreeSet<B> {
        self.into_iter().map(Conv::conv).collect()
    }
}

impl<K: Conv<L>, V: Conv<W>, L: Ord, W> Conv<BTreeMap<L, W>> for BTreeMap<K, V> {
    fn conv(self) -> BTreeMap<L, W> {
        self.into_iter()
            .map(|(k, v)| (k.conv(), v.conv()))
            .collect()
    }
}

/// A frozen struct and its conversions to and from the live struct of the same fields:
/// `frozen_struct! { Name = live::path::Name { field: Type, ... } }`. Live fields that a
/// later version added follow as `later { field: value_when_read, ... }`: reading this version
/// gives them that value, writing it drops them.
macro_rules! frozen_struct {
    ($(#[$m:meta])* $name:ident = $($live:ident)::+ {
        $($(#[$fm:meta])* $f:ident : $t:ty),* $(,)?
    } $(later { $($lf:ident : $lv:expr),* $(,)? })?) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            $($(#[$fm])* pub $f: $t,)*
        }

        impl $crate::meta::format::conv::Conv<$($live)::+> for $name {
            fn conv(self) -> $($live)::+ {
                $($live)::+ {
                    $($f: $crate::meta::format::conv::Conv::conv(self.$f),)*
                    $($($lf: $lv,)*)?
                }
            }
        }

        impl $crate::meta::format::conv::Conv<$name> for $($live)::+ {
            fn conv(self) -> $name {
                let $($live)::+ { $($f,)* $($($lf: _,)*)? } = self;
                $name { $($f: $crate::meta::format::conv::Conv::conv($f),)* }
            }
        }
    };
}

/// A frozen enum and its conversions to and from the live enum. Every variant is written in
/// braces; `live_field => field: Type` names the live variant's field (`0` for a tuple
/// variant's) and the frozen one's. Unit, newtype and struct variants encode alike in bincode
/// (the variant's index, then its fields in order), so braces change no byte.
macro_rules! frozen_enum {
    ($(#[$m:meta])* $name:ident = $($live:ident)::+ {
        $($(#[$vm:meta])* $v:ident { $($lf:tt => $f:ident : $t:ty),* $(,)? }),* $(,)?
    }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vm])* $v { $($f: $t,)* },)*
        }

        impl $crate::meta::format::conv::Conv<$($live)::+> for $name {
            fn conv(self) -> $($live)::+ {
                type Live = $($live)::+;
                match self {
                    $($name::$v { $($f,)* } => Live::$v {
                        $($lf: $crate::meta::format::conv::Conv::conv($f),)*
                    },)*
                }
            }
        }

        impl $crate::meta::format::conv::Conv<$name> for $($live)::+ {
            fn conv(self) -> $name {
                type Live = $($live)::+;
                match self {
                    $(Live::$v { $($lf: $f,)* } => $name::$v {
                        $($f: $crate::meta::format::conv::Conv::conv($f),)*
                    },)*
                }
            }
        }
    };
}

pub(crate) use {frozen_enum, frozen_struct};
