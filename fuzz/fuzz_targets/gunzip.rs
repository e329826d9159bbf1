//! gzip request bodies (`Content-Encoding: gzip`), decompressed with a 1 MiB limit: the output
//! never exceeds the limit, whatever the input claims.

#![no_main]

use libfuzzer_sys::fuzz_target;

const LIMIT: usize = 1024 * 1024;

fuzz_target!(|data: &[u8]| {
    if let Ok(out) = spindle_ingest::compression::gunzip(data, LIMIT) {
        assert!(out.len() <= LIMIT);
    }
});
