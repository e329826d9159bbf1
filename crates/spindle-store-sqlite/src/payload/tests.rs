//! The payload forms: round trips through `spindle_payload()`, dictionaries trained, saved and
//! loaded, and inputs that are incompressible, corrupt or name an unknown dictionary.

use super::*;

/// A connection with `spindle_payload` and the dictionaries table.
fn connection() -> Connection {
    let connection = Connection::open_in_memory().unwrap();
    register_function(&connection).unwrap();
    connection
        .execute_batch(include_str!(
            "../../migrations/0029_payload_dictionaries.sql"
        ))
        .unwrap();
    connection.execute_batch("CREATE TABLE p (x)").unwrap();
    connection
}

fn column(connection: &Connection, sql: &str) -> Vec<Option<String>> {
    connection
        .prepare(sql)
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// Prose of `words` words from a small vocabulary, like chat messages.
fn prose(seed: u64, words: usize) -> String {
    const VOCABULARY: [&str; 12] = [
        "invoice", "customer", "refund", "the", "account", "password", "order", "delivery",
        "within", "days", "support", "answer",
    ];
    let mut rng = spindle_core::rng::Rng::new(seed);
    let text: Vec<&str> = (0..words)
        .map(|_| VOCABULARY[(rng.next_u64() % 12) as usize])
        .collect();
    format!(
        "[{{\"role\": \"user\", \"content\": \"{}\"}}]",
        text.join(" ")
    )
}

/// Trains `packer`'s dictionary from enough samples and waits for it.
fn trained(packer: &Arc<Packer>) -> u32 {
    for seed in 0..TRAINING_SAMPLES as u64 {
        packer.pack(&prose(seed, 80));
    }
    for _ in 0..1000 {
        if let Some((id, _)) = packer.current() {
            return id;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("no dictionary trained");
}

#[test]
fn payloads_read_back_through_the_sql_function() {
    let connection = connection();
    let long = "the same words again and again, ".repeat(20);
    let unicode = format!("{long} ünïcødé ✓");
    let cases: [Option<&str>; 5] = [None, Some(""), Some("short"), Some(&long), Some(&unicode)];
    let packer = Packer::load(&connection).unwrap();
    let texts = PackedTexts::default();
    for text in cases {
        connection
            .execute(
                "INSERT INTO p (x) VALUES (?1)",
                [texts.payload(Some(&packer), text)],
            )
            .unwrap();
    }
    let kinds = column(&connection, "SELECT typeof(x) FROM p ORDER BY rowid");
    let kinds: Vec<&str> = kinds.iter().flatten().map(String::as_str).collect();
    assert_eq!(kinds, ["null", "text", "text", "blob", "blob"]);
    let read = column(
        &connection,
        "SELECT spindle_payload(x) FROM p ORDER BY rowid",
    );
    let expected: Vec<Option<String>> = cases.iter().map(|c| c.map(str::to_owned)).collect();
    assert_eq!(read, expected);
    let found: i64 = connection
        .query_row(
            "SELECT count(*) FROM p WHERE spindle_payload(x) LIKE '%ÜNÏ%' \
             OR spindle_payload(x) LIKE '%AGAIN, THE%'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(found, 2);
}

#[test]
fn a_trained_dictionary_packs_smaller_and_is_saved_with_its_payloads() {
    let connection = connection();
    let packer = Packer::load(&connection).unwrap();
    let text = prose(u64::MAX, 200);
    let without = packer.pack(&text).expect("packed without a dictionary");
    assert_eq!(zstd::zstd_safe::get_dict_id_from_frame(&without), None);
    let id = trained(&packer);
    let with = packer.pack(&text).expect("packed with the dictionary");
    assert_eq!(
        zstd::zstd_safe::get_dict_id_from_frame(&with).map(|id| id.get()),
        Some(id)
    );
    assert!(
        with.len() < without.len(),
        "{} bytes with the dictionary, {} without",
        with.len(),
        without.len()
    );
    // The writer saves the dictionary in the transaction of the payloads packed with it.
    let saved = packer.save(&connection, 1).unwrap();
    assert_eq!(saved, [id]);
    connection
        .execute("INSERT INTO p (x) VALUES (?1), (?2)", [&without, &with])
        .unwrap();
    packer.saved(&saved);
    assert_eq!(packer.save(&connection, 2).unwrap(), Vec::<u32>::new());
    let read = column(
        &connection,
        "SELECT spindle_payload(x) FROM p ORDER BY rowid",
    );
    assert_eq!(read, [Some(text.clone()), Some(text.clone())]);
    // Opened again, the database's dictionary is current and no new one is trained.
    let reopened = Packer::load(&connection).unwrap();
    assert_eq!(reopened.current().map(|(id, _)| id), Some(id));
    assert!(reopened
        .samples
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .is_none());
}

#[test]
fn a_frame_naming_an_unknown_dictionary_is_an_error() {
    let connection = connection();
    let samples: Vec<String> = (0..500).map(|seed| prose(seed + 7_000, 60)).collect();
    let dictionary = zstd::dict::from_samples(&samples, 4096).unwrap();
    // Never made known to this process.
    let mut compressor = zstd::bulk::Compressor::with_dictionary(1, &dictionary).unwrap();
    let packed = compressor.compress(prose(1, 100).as_bytes()).unwrap();
    assert!(zstd::zstd_safe::get_dict_id_from_frame(&packed).is_some());
    let read: rusqlite::Result<Option<String>> =
        connection.query_row("SELECT spindle_payload(?1)", [packed], |row| row.get(0));
    let error = read.expect_err("unknown dictionary").to_string();
    assert!(error.contains("unknown dictionary"), "{error}");
}

#[test]
fn packed_ahead_bytes_are_bound_for_their_own_text_only() {
    let connection = connection();
    let packer = Packer::load(&connection).unwrap();
    let first = prose(1, 100);
    let second = prose(2, 100);
    let incompressible = noise();
    assert_eq!(pack(&incompressible), None);
    let batch = WriteBatch {
        observations: [Some(incompressible.clone()), Some(first.clone()), None]
            .into_iter()
            .enumerate()
            .map(|(n, input)| ObservationRecord {
                id: format!("o{n}"),
                input,
                output: Some(second.clone()),
                ..ObservationRecord::default()
            })
            .collect(),
        ..WriteBatch::default()
    };
    let prepacked = packer.pack_ahead(&batch);
    let mut texts = PackedTexts::default();
    texts.add(&batch, &prepacked);
    // The batch's own strings and equal copies find their bytes; other texts are packed now.
    let copy = first.clone();
    for text in [&batch.observations[1].input, &Some(copy)] {
        let bound = texts.payload(Some(&packer), text.as_deref());
        assert!(matches!(bound, Payload::Prepacked(_)));
    }
    let other = prose(4, 100);
    for (text, expected) in [
        (Some(incompressible.as_str()), "text"),
        (Some(other.as_str()), "blob"),
        (None, "null"),
    ] {
        let bound = texts.payload(Some(&packer), text);
        assert!(!matches!(bound, Payload::Prepacked(_)));
        connection
            .execute("INSERT INTO p (x) VALUES (?1)", [bound])
            .unwrap();
        let kind: String = connection
            .query_row(
                "SELECT typeof(x) FROM p ORDER BY rowid DESC LIMIT 1",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(kind, expected);
    }
    for text in [&batch.observations[1].input, &batch.observations[0].output] {
        connection
            .execute(
                "INSERT INTO p (x) VALUES (?1)",
                [texts.payload(Some(&packer), text.as_deref())],
            )
            .unwrap();
    }
    let read = column(
        &connection,
        "SELECT spindle_payload(x) FROM p ORDER BY rowid DESC LIMIT 2",
    );
    assert_eq!(read, [Some(second.clone()), Some(first.clone())]);
    // Compression off: every text is bound as text.
    let bound = texts.payload(None, Some(first.as_str()));
    assert!(matches!(bound, Payload::Text(Some(_))));
}

#[test]
fn a_text_the_batch_holds_twice_is_packed_for_both_places() {
    let connection = connection();
    let packer = Packer::load(&connection).unwrap();
    let shared = prose(5, 100);
    let own = prose(6, 100);
    let incompressible = noise();
    let observation = |id: &str, input: &str, output: &str| ObservationRecord {
        id: id.to_owned(),
        input: Some(input.to_owned()),
        output: Some(output.to_owned()),
        ..ObservationRecord::default()
    };
    let batch = WriteBatch {
        traces: vec![TraceRecord {
            id: "t".to_owned(),
            input: Some(incompressible.clone()),
            output: Some(own.clone()),
            ..TraceRecord::default()
        }],
        observations: vec![
            observation("o1", &shared, &incompressible),
            observation("o2", &shared, &own),
        ],
        ..WriteBatch::default()
    };
    let prepacked = packer.pack_ahead(&batch);
    // Positions: the trace's input and output, then each observation's input and output.
    let positions: Vec<usize> = prepacked.packed.iter().map(|(at, _)| *at).collect();
    assert_eq!(positions, [1, 2, 4, 5]);
    let texts: Vec<String> = prepacked
        .packed
        .iter()
        .map(|(_, bytes)| unpack(bytes).unwrap())
        .collect();
    assert_eq!(texts, [&own, &shared, &shared, &own].map(String::clone));
}

#[test]
fn texts_of_one_length_are_found_by_address_or_content_across_batches() {
    let connection = connection();
    let packer = Packer::load(&connection).unwrap();
    // Every text has the same length, as templated payloads often do.
    let batch = |first: u64| WriteBatch {
        observations: (first..first + 50)
            .map(|n| ObservationRecord {
                id: format!("o{n}"),
                input: Some(prose(n, 100).chars().take(300).collect()),
                ..ObservationRecord::default()
            })
            .collect(),
        ..WriteBatch::default()
    };
    let (one, two) = (batch(0), batch(50));
    assert!(one.observations.iter().chain(&two.observations).all(|o| o
        .input
        .as_ref()
        .map(String::len)
        == Some(300)));
    let (one_packed, two_packed) = (packer.pack_ahead(&one), packer.pack_ahead(&two));
    let mut texts = PackedTexts::default();
    texts.add(&one, &one_packed);
    let prepacked = |texts: &PackedTexts<'_>, text: &str| {
        matches!(
            texts.payload(Some(&packer), Some(text)),
            Payload::Prepacked(_)
        )
    };
    // A copy is found by content (this builds the content index) ...
    let copy = one.observations[49].input.clone().unwrap();
    assert!(prepacked(&texts, &copy));
    // ... which a later batch's texts join.
    texts.add(&two, &two_packed);
    let copy = two.observations[7].input.clone().unwrap();
    assert!(prepacked(&texts, &copy));
    for observation in one.observations.iter().chain(&two.observations) {
        assert!(prepacked(&texts, observation.input.as_deref().unwrap()));
    }
    // Bytes found for a text are the bytes packed for it.
    let text = two.observations[3].input.as_deref().unwrap();
    let Payload::Prepacked(bytes) = texts.payload(Some(&packer), Some(text)) else {
        panic!("not packed ahead");
    };
    let read: Option<String> = connection
        .query_row("SELECT spindle_payload(?1)", [bytes], |row| row.get(0))
        .unwrap();
    assert_eq!(read.as_deref(), Some(text));
}

/// 200 characters that zstd cannot make smaller.
fn noise() -> String {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..200)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'!' + (state % 94) as u8)
        })
        .collect()
}

#[test]
fn incompressible_payloads_stay_text() {
    assert!(pack(&noise()).is_none());
}

#[test]
fn corrupt_blobs_are_errors_not_panics() {
    let connection = connection();
    let mut packed = pack(&"abc ".repeat(100)).unwrap();
    packed.truncate(packed.len() / 2);
    for blob in [vec![], vec![1, 2, 3], packed] {
        let read: rusqlite::Result<Option<String>> =
            connection.query_row("SELECT spindle_payload(?1)", [blob], |row| row.get(0));
        assert!(read.is_err());
    }
}

#[test]
fn register_makes_the_dictionaries_of_its_database_known() {
    let connection = connection();
    let samples: Vec<String> = (0..500).map(|seed| prose(seed + 20_000, 70)).collect();
    // A dictionary this process has not seen, saved as a store would save it.
    let dictionary = zstd::dict::from_samples(&samples, 8192).unwrap();
    let id = zstd::zstd_safe::get_dict_id_from_dict(&dictionary)
        .unwrap()
        .get();
    connection
        .execute(
            "INSERT INTO payload_dictionaries (id, created_at, dictionary) VALUES (?1, 1, ?2)",
            rusqlite::params![i64::from(id), &dictionary],
        )
        .unwrap();
    let text = prose(3, 100);
    let mut compressor = zstd::bulk::Compressor::with_dictionary(LEVEL, &dictionary).unwrap();
    let packed = compressor.compress(text.as_bytes()).unwrap();
    let read = |connection: &Connection| -> rusqlite::Result<String> {
        connection.query_row("SELECT spindle_payload(?1)", [&packed], |row| row.get(0))
    };
    assert!(
        read(&connection).is_err(),
        "the dictionary is not known yet"
    );
    // What the copy tool does with its own connection to a database.
    register(&connection).unwrap();
    assert_eq!(read(&connection).unwrap(), text);
}
