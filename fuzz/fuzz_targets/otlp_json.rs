//! OTLP/HTTP JSON bodies: decode, map to records, coalesce. Any input must give a result
//! or an error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_ingest::otlp::Encoding;

fuzz_target!(|data: &[u8]| spindle_fuzz::otlp_body(data, Encoding::Json));
