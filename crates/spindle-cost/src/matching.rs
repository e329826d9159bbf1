//! Model names as SDKs and providers spell them, reduced to the names the price table uses.

/// Names to match, most literal first: as sent (lower-cased), without provider prefixes, and
/// without version or date suffixes.
pub fn candidates(model: &str) -> Vec<String> {
    let lower = model.trim().to_ascii_lowercase();
    let mut out = vec![lower.clone()];
    let unprefixed = strip_prefixes(&lower);
    if !out.contains(&unprefixed) {
        out.push(unprefixed.clone());
    }
    let unsuffixed = strip_suffixes(&unprefixed);
    if !out.contains(&unsuffixed) {
        out.push(unsuffixed);
    }
    out
}

/// Removes `provider/…` paths, Bedrock region and vendor prefixes, and `models/`.
fn strip_prefixes(name: &str) -> String {
    let mut rest = name.rsplit('/').next().unwrap_or(name);
    for region in ["us.", "eu.", "apac.", "global.", "us-gov."] {
        if let Some(stripped) = rest.strip_prefix(region) {
            rest = stripped;
            break;
        }
    }
    for vendor in [
        "anthropic.",
        "meta.",
        "amazon.",
        "mistral.",
        "cohere.",
        "ai21.",
        "deepseek.",
        "writer.",
    ] {
        if let Some(stripped) = rest.strip_prefix(vendor) {
            rest = stripped;
            break;
        }
    }
    rest.to_owned()
}

/// Removes version and date suffixes, repeatedly: `-v1:0`, `@20241022`, `@latest`,
/// `-2024-08-06`, `-20241022`, `-0613`, `-001`, `-latest`.
fn strip_suffixes(name: &str) -> String {
    let mut current = name.to_owned();
    loop {
        let next = strip_one_suffix(&current);
        if next == current || next.is_empty() {
            return current;
        }
        current = next;
    }
}

fn strip_one_suffix(name: &str) -> String {
    if let Some((head, tail)) = name.rsplit_once('@') {
        if tail == "latest" || tail.chars().all(|c| c.is_ascii_digit()) {
            return head.to_owned();
        }
    }
    if let Some(head) = name.strip_suffix("-latest") {
        return head.to_owned();
    }
    // -v1, -v2:0
    if let Some((head, tail)) = name.rsplit_once("-v") {
        let (major, minor) = tail.split_once(':').unwrap_or((tail, "0"));
        if !major.is_empty()
            && major.chars().all(|c| c.is_ascii_digit())
            && minor.chars().all(|c| c.is_ascii_digit())
            && !head.is_empty()
        {
            return head.to_owned();
        }
    }
    // -YYYY-MM-DD
    if name.len() > 11 {
        let (head, tail) = name.split_at(name.len() - 11);
        let bytes = tail.as_bytes();
        let is_date = bytes[0] == b'-'
            && bytes[5] == b'-'
            && bytes[8] == b'-'
            && tail[1..5].chars().all(|c| c.is_ascii_digit())
            && tail[6..8].chars().all(|c| c.is_ascii_digit())
            && tail[9..].chars().all(|c| c.is_ascii_digit());
        if is_date {
            return head.to_owned();
        }
    }
    // -08-2024 (Cohere)
    if name.len() > 8 {
        let (head, tail) = name.split_at(name.len() - 8);
        let bytes = tail.as_bytes();
        if bytes[0] == b'-'
            && bytes[3] == b'-'
            && tail[1..3].chars().all(|c| c.is_ascii_digit())
            && tail[4..].chars().all(|c| c.is_ascii_digit())
        {
            return head.to_owned();
        }
    }
    // -20241022, -0613, -001, -2411
    if let Some((head, tail)) = name.rsplit_once('-') {
        let digits = tail.len();
        if (3..=8).contains(&digits) && tail.chars().all(|c| c.is_ascii_digit()) && !head.is_empty()
        {
            return head.to_owned();
        }
    }
    name.to_owned()
}
