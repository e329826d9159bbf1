"""Sends the end-to-end test's traces with the official Python SDK (langfuse 5.x).

Prints one JSON line with the ids the browser test looks for.
"""

import base64
import json
import os

from langfuse import Langfuse, propagate_attributes


# An 8x8 red PNG.
PNG_8X8_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR42mO4aWCGFTEMLQkAUllPwVo06AYAAAAASUVORK5CYII="
)


def main():
    lf = Langfuse(
        public_key=os.environ["LANGFUSE_PUBLIC_KEY"],
        secret_key=os.environ["LANGFUSE_SECRET_KEY"],
        base_url=os.environ["LANGFUSE_BASE_URL"],
        environment="e2e",
    )
    ids = {}

    # A support conversation of two turns in one session, by alice.
    for turn, (question, answer) in enumerate(
        [
            ("How do I reset my password?", "Open settings and choose the purple lighthouse option."),
            ("And where are settings?", "Top right corner, under your avatar."),
        ]
    ):
        with propagate_attributes(
            user_id="alice", session_id="support-session-1", tags=["support"], trace_name="support-chat"
        ):
            with lf.start_as_current_observation(name="support-chat", input={"question": question}) as root:
                with lf.start_as_current_observation(name="retrieve-docs", as_type="retriever", input=question) as r:
                    r.update(output=["doc-1", "doc-2"])
                with lf.start_as_current_observation(
                    name="answer-llm",
                    as_type="generation",
                    model="gpt-4o-mini",
                    input=[
                        {"role": "system", "content": "You are a helpful support agent."},
                        {"role": "user", "content": question},
                    ],
                    model_parameters={"temperature": 0.1},
                ) as gen:
                    gen.update(
                        output={"role": "assistant", "content": answer},
                        usage_details={"input": 40 + turn, "output": 12},
                        cost_details={"input": 0.0004, "output": 0.0002, "total": 0.0006},
                    )
                root.update(output={"answer": answer})
                ids[f"turn{turn}"] = root.trace_id

    # bob's trace with a low quality score and an error.
    with propagate_attributes(user_id="bob", trace_name="summarize"):
        with lf.start_as_current_observation(name="summarize", input={"text": "quarterly report"}) as root:
            failed = lf.start_observation(
                name="summarize-llm", as_type="generation", model="gpt-4o", level="ERROR", status_message="rate limited"
            )
            failed.end()
            root.update(output="could not summarize")
            ids["bob"] = root.trace_id
    lf.create_score(name="quality", value=0.1, trace_id=ids["bob"], comment="bad")
    lf.create_score(name="quality", value=0.9, trace_id=ids["turn0"], comment="good")

    # Untrusted data: HTML and script in names, inputs, outputs and metadata.
    payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    with propagate_attributes(user_id="mallory", trace_name="xss-" + payload, metadata={"note": payload}):
        with lf.start_as_current_observation(
            name=payload,
            input={"html": payload, "messages": None},
            metadata={"evil": payload},
        ) as root:
            with lf.start_as_current_observation(
                name="chat-" + payload,
                as_type="generation",
                input=[{"role": "user", "content": payload}],
            ) as gen:
                gen.update(output={"role": "assistant", "content": payload})
            root.update(output=payload)
            ids["xss"] = root.trace_id

    # An image attached to an output: the SDK uploads it and leaves a media reference.
    from langfuse.media import LangfuseMedia

    png = base64.b64decode(PNG_8X8_B64)
    with lf.start_as_current_observation(name="with-image", input={"prompt": "draw a square"}) as root:
        root.update(output={"image": LangfuseMedia(content_bytes=png, content_type="image/png")})
        ids["image"] = root.trace_id

    lf.flush()
    lf.shutdown()
    print(json.dumps(ids))


if __name__ == "__main__":
    main()
