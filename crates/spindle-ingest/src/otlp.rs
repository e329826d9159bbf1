//! OTLP/HTTP trace exports: decoding (protobuf or JSON, gzip or not) and mapping to records.

pub mod decoded;
pub mod json;
pub mod map;
pub mod protobuf;

/// The OTLP prost messages, from the crate the SDK encodes them with.
pub use spindle_otlp as proto;

pub use decoded::Export;
pub use map::to_batch;

/// The body encodings the OTLP endpoint accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    /// Picks the encoding from a `Content-Type` header, by substring as Langfuse does.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let lower = content_type.to_ascii_lowercase();
        if lower.contains("application/x-protobuf") || lower.contains("application/protobuf") {
            Some(Encoding::Protobuf)
        } else if lower.contains("application/json") {
            Some(Encoding::Json)
        } else {
            None
        }
    }
}

/// Decodes an export body.
pub fn decode(body: &[u8], encoding: Encoding) -> Result<Export, spindle_core::Error> {
    match encoding {
        Encoding::Protobuf => protobuf::decode(body),
        Encoding::Json => json::decode(body),
    }
}
