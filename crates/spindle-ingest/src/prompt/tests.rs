//! Create and label-update bodies of the prompts API: what each becomes, and the error that
//! names the field of each bad input.

use super::*;

fn create(body: &str) -> Result<NewPrompt, String> {
    parse_create_prompt_body(body.as_bytes()).map_err(|error| error.message)
}

fn check_error(body: &str, expected: &str) {
    let message = create(body).expect_err(body);
    assert!(message.starts_with(expected), "{body}: {message}");
}

#[test]
fn text_prompt_with_defaults() {
    let prompt = create(r#"{"name": " greet ", "prompt": "Hi {{name}}"}"#).expect("valid");
    assert_eq!(
        prompt,
        NewPrompt {
            name: "greet".into(),
            prompt_type: PromptType::Text,
            prompt: r#""Hi {{name}}""#.into(),
            config: "{}".into(),
            labels: vec![],
            tags: None,
            commit_message: None,
        }
    );
}

#[test]
fn chat_prompt_with_placeholder_labels_tags_and_config() {
    let prompt = create(
        r#"{"name": "folder/chat", "type": "chat",
            "prompt": [{"role": "system", "content": "Be {{tone}}", "type": "chatmessage", "extra": 1},
                       {"type": "placeholder", "name": "history"}],
            "config": {"model": "gpt-4o", "temperature": 0.2},
            "labels": ["production", "latest", "production"], "tags": ["a", "b", "a"],
            "commitMessage": "first"}"#,
    )
    .expect("valid");
    assert_eq!(prompt.prompt_type, PromptType::Chat);
    assert_eq!(
        prompt.prompt,
        r#"[{"role":"system","content":"Be {{tone}}"},{"type":"placeholder","name":"history"}]"#
    );
    assert_eq!(prompt.config, r#"{"model":"gpt-4o","temperature":0.2}"#);
    assert_eq!(prompt.labels, vec!["production".to_owned()]);
    assert_eq!(prompt.tags, Some(vec!["a".to_owned(), "b".to_owned()]));
    assert_eq!(prompt.commit_message.as_deref(), Some("first"));
}

#[test]
fn a_list_without_type_is_a_chat_prompt() {
    let prompt =
        create(r#"{"name": "c", "prompt": [{"role": "user", "content": "x"}]}"#).expect("valid");
    assert_eq!(prompt.prompt_type, PromptType::Chat);
}

#[test]
fn bad_inputs_name_the_field() {
    for (body, expected) in [
        ("not json", "body: invalid JSON"),
        ("[]", "body: expected a JSON object"),
        (r#"{"prompt": "x"}"#, "name: is required"),
        (r#"{"name": "", "prompt": "x"}"#, "name: must not be empty"),
        (r#"{"name": 3, "prompt": "x"}"#, "name: must be a string"),
        (r#"{"name": "a|b", "prompt": "x"}"#, "name: cannot contain"),
        (r#"{"name": "a"}"#, "prompt: is required"),
        (r#"{"name": "a", "prompt": 1}"#, "prompt: must be a string"),
        (
            r#"{"name": "a", "type": "x", "prompt": "p"}"#,
            "type: must be",
        ),
        (
            r#"{"name": "a", "type": "chat", "prompt": "p"}"#,
            "prompt: must be a list",
        ),
        (
            r#"{"name": "a", "type": "chat", "prompt": [{"content": "x"}]}"#,
            "prompt[0].role: is required",
        ),
        (
            r#"{"name": "a", "type": "chat", "prompt": [{"role": "user"}]}"#,
            "prompt[0].content: is required",
        ),
        (
            r#"{"name": "a", "type": "chat", "prompt": [{"role": "user", "content": "x"}, 3]}"#,
            "prompt[1]: must be an object",
        ),
        (
            r#"{"name": "a", "type": "chat", "prompt": [{"type": "placeholder", "name": "1x"}]}"#,
            "prompt[0].name: must start with a letter",
        ),
        (
            r#"{"name": "a", "type": "chat", "prompt": [{"type": "placeholder", "name": "h"}, {"role": "user", "content": "{{h}}"}]}"#,
            "prompt: variables and placeholders",
        ),
        (
            r#"{"name": "a", "prompt": "p", "labels": ["Prod"]}"#,
            "labels[0]: must be lowercase",
        ),
        (
            r#"{"name": "a", "prompt": "p", "labels": "x"}"#,
            "labels: must be an array",
        ),
        (
            r#"{"name": "a", "prompt": "p", "tags": [1]}"#,
            "tags[0]: must be a string",
        ),
    ] {
        check_error(body, expected);
    }
    check_error(
        &format!(
            r#"{{"name": "a", "prompt": "p", "commitMessage": "{}"}}"#,
            "x".repeat(501)
        ),
        "commitMessage: must be at most",
    );
}

#[test]
fn new_labels() {
    assert_eq!(
        parse_new_labels_body(br#"{"newLabels": ["production", "staging", "production"]}"#)
            .expect("valid"),
        vec!["production".to_owned(), "staging".to_owned()]
    );
    assert_eq!(
        parse_new_labels_body(br#"{"newLabels": []}"#).expect("valid"),
        Vec::<String>::new()
    );
    for (body, expected) in [
        (&br#"{}"#[..], "newLabels: is required"),
        (br#"{"newLabels": ["latest"]}"#, "newLabels: the label"),
        (
            br#"{"newLabels": ["a b"]}"#,
            "newLabels[0]: must be lowercase",
        ),
        (br#"{"newLabels": "x"}"#, "newLabels: must be an array"),
        (b"nope", "body: invalid JSON"),
    ] {
        let message = parse_new_labels_body(body).expect_err("invalid").message;
        assert!(message.starts_with(expected), "{message}");
    }
}
