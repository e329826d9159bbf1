//! Prompt management: create a chat prompt version, fetch it by label (cached, with a fallback
//! for when the server is unreachable), compile it with variables and a conversation history,
//! and link the generation that used it. A fake LLM stands in for the model.
//!
//! Run: `LANGFUSE_PUBLIC_KEY=… LANGFUSE_SECRET_KEY=… cargo run -p spindle --example prompt_management`

mod setup;

use serde_json::json;
use spindle::{
    observe, ChatMessage, Client, CompiledMessage, CreatePrompt, ObservationUpdate, Prompt,
    PromptError, PromptMessage, Variables,
};

/// The name of the example's prompt.
pub const PROMPT_NAME: &str = "movie-critic";

/// Creates the next version of the prompt and gives it the `production` label.
pub async fn create_prompt_version(client: &Client) -> Result<Prompt, PromptError> {
    client
        .create_prompt(
            CreatePrompt::chat(
                PROMPT_NAME,
                vec![
                    PromptMessage::message(
                        "system",
                        "You are a {{criticlevel}} movie critic. Answer in one sentence.",
                    ),
                    PromptMessage::placeholder("history"),
                    PromptMessage::message("user", "What do you think of {{movie}}?"),
                ],
            )
            .labels(["production"])
            .tags(["example"])
            .config(&json!({"model": "fake-llm", "temperature": 0.7}))
            .commit_message("one-sentence answers"),
        )
        .await
}

/// A deterministic stand-in for a chat model; the generation links the prompt it used.
#[observe(as_type = "generation", skip(prompt))]
fn call_llm(messages: &[CompiledMessage], prompt: &Prompt) -> String {
    let last = messages
        .last()
        .and_then(CompiledMessage::as_message)
        .map_or("", |message| message.content.as_str());
    spindle::update_current_generation(
        ObservationUpdate::new()
            .model(prompt.config["model"].as_str().unwrap_or("fake-llm"))
            .model_parameters(&json!({"temperature": prompt.config["temperature"]}))
            .usage_details(&json!({"input": messages.len() * 10, "output": 12}))
            .linked_prompt(prompt),
    );
    format!("Asked \"{last}\": a bold film, worth seeing.")
}

/// Fetches the production prompt, compiles it and answers, all under one trace.
#[observe(name = "movie-review")]
pub async fn review(movie: &str) -> Result<String, PromptError> {
    let prompt = spindle::get_client()
        .get_prompt(PROMPT_NAME)
        .fallback_chat(vec![PromptMessage::message(
            "user",
            "What do you think of {{movie}}?",
        )])
        .await?;
    let variables = Variables::new()
        .var("criticlevel", "expert")
        .var("movie", movie)
        .placeholder(
            "history",
            vec![
                ChatMessage::new("user", "Hi, I like thrillers."),
                ChatMessage::new("assistant", "Noted, thrillers it is."),
            ],
        );
    let messages = prompt.compile_chat(&variables)?;
    Ok(call_llm(&messages, &prompt))
}

fn main() {
    let client = Client::from_env().unwrap_or_else(|error| {
        eprintln!("{error}: running without a server, the fallback prompt is used");
        Client::disabled()
    });
    client.install_global();
    let Some(runtime) = setup::runtime() else {
        return;
    };
    runtime.block_on(async {
        if client.is_enabled() {
            match create_prompt_version(&client).await {
                Ok(prompt) => println!("created {} version {}", prompt.name, prompt.version),
                Err(error) => eprintln!("prompt not created: {error}"),
            }
        }
        match review("Dune: Part Two").await {
            Ok(answer) => println!("{answer}"),
            Err(error) => eprintln!("{error}"),
        }
    });
    client.flush();
}
