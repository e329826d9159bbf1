//! gzip request bodies (`Content-Encoding: gzip`), decompressed with a 1 MiB limit through
//! `gunzip_charged`, as the server does: the first two input bytes choose a memory budget the
//! charge callback enforces (as the server's body-byte budget does). The output never exceeds
//! the limit, every byte of it was charged first, and the charges never pass the budget.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_core::{Error, ErrorKind};

const LIMIT: usize = 1024 * 1024;

fuzz_target!(|data: &[u8]| {
    let (budget, body) = match data {
        [high, low, body @ ..] => ((usize::from(*high) << 8 | usize::from(*low)) * 64, body),
        _ => (LIMIT * 2, data),
    };
    let mut charged = 0usize;
    let result = spindle_ingest::compression::gunzip_charged(body, LIMIT, &mut |bytes| {
        if charged + bytes > budget {
            return Err(Error::new(ErrorKind::Overloaded, "budget"));
        }
        charged += bytes;
        Ok(())
    });
    assert!(charged <= budget);
    if let Ok(out) = result {
        assert!(out.len() <= LIMIT);
        assert!(out.len() <= charged || out.is_empty());
    }
});
