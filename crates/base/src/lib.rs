//! What every layer of Scenarist shares and none owns: time as the runtime and the Zendesk
//! stand-in see it (`clock`), lower-case hexadecimal (`hex`), and files only their owner may
//! read, replaced atomically (`private_file`). No dependency on any other Scenarist crate.

pub mod clock;
pub mod hex;
pub mod private_file;
