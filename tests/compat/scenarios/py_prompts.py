"""Prompt management with the official Python SDK (5.x or 4.x, the major is the first
argument): create text and chat prompts (a name in a folder, a placeholder), get them by
label and version, compile them, move a label with update_prompt, link a prompt to a
generation, list and delete through the SDK's API client, and the error cases (a missing
prompt, a fallback, an invalid label). Prints what it saw; the test reads the rest back."""

import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import error_of, finish, start_client  # noqa: E402


def main(major):
    collector, run, timeout, summary, lf = start_client(major)
    text_name = f"compat-{run}-{major}/movie-critic"
    chat_name = f"compat-{run}-{major}-chat"
    summary["text_name"], summary["chat_name"] = text_name, chat_name

    created = lf.create_prompt(
        name=text_name,
        prompt="As a {{criticlevel}} critic, do you like {{movie}}?",
        labels=["production"],
        tags=["films", major],
        config={"model": "gpt-4o", "temperature": 0.5},
        commit_message="first version",
    )
    summary["created"] = {"version": created.version, "labels": created.labels, "tags": created.tags,
                          "config": created.config, "commit_message": created.commit_message}

    production = lf.get_prompt(text_name)
    summary["production"] = {
        "version": production.version,
        "prompt": production.prompt,
        "config": production.config,
        "labels": production.labels,
        "is_fallback": production.is_fallback,
        "compiled": production.compile(criticlevel="expert", movie="Dune 2"),
        "variables": production.variables,
    }

    chat = lf.create_prompt(
        name=chat_name,
        type="chat",
        prompt=[
            {"role": "system", "content": "You are a {{role}} assistant."},
            {"type": "placeholder", "name": "history"},
            {"role": "user", "content": "{{question}}"},
        ],
        labels=["staging"],
    )
    summary["chat_created"] = {"version": chat.version, "labels": chat.labels}
    chat_fetched = lf.get_prompt(chat_name, type="chat", label="staging")
    summary["chat"] = {
        "version": chat_fetched.version,
        "prompt": chat_fetched.prompt,
        "compiled": chat_fetched.compile(
            role="helpful",
            question="And now?",
            history=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}],
        ),
    }

    second = lf.create_prompt(name=text_name, prompt="Rate {{movie}} from 1 to 10.")
    summary["second"] = {"version": second.version, "labels": second.labels, "tags": second.tags}
    summary["by_version"] = lf.get_prompt(text_name, version=1, cache_ttl_seconds=0).prompt
    summary["latest_version"] = lf.get_prompt(text_name, label="latest", cache_ttl_seconds=0).version

    updated = lf.update_prompt(name=text_name, version=2, new_labels=["production"])
    summary["updated_labels"] = sorted(updated.labels)
    moved = lf.get_prompt(text_name, cache_ttl_seconds=0)
    summary["production_after_update"] = {"version": moved.version, "prompt": moved.prompt}

    # Link the prompt to a generation.
    with lf.start_as_current_observation(name=f"prompts-{major}-{run}") as root:
        summary["trace"] = root.trace_id
        with lf.start_as_current_observation(
            as_type="generation", name="prompted", model="gpt-4o", prompt=moved,
            input=moved.compile(movie="Dune"),
        ) as generation:
            summary["generation"] = generation.id

    # The API client: list, get a raw version, delete a version.
    listed = lf.api.prompts.list(name=text_name)
    summary["listed"] = [
        {"name": item.name, "versions": item.versions, "labels": sorted(item.labels), "tags": sorted(item.tags)}
        for item in listed.data
    ]
    summary["listed_total"] = listed.meta.total_items
    encoded = urllib.parse.quote(text_name, safe="")
    raw = lf.api.prompts.get(encoded, version=1)
    summary["api_get"] = {"version": raw.version, "type": raw.type, "prompt": raw.prompt}
    summary["has_delete"] = hasattr(lf.api.prompts, "delete")
    if summary["has_delete"]:
        lf.api.prompts.delete(encoded, version=1)
        summary["after_delete"] = lf.api.prompts.list(name=text_name).data[0].versions

    # Errors. What the SDK logs about them is expected, kept apart from the run's log.
    expected_from = len(collector.records)
    absent = f"compat-{run}-{major}-absent"
    summary["missing"] = error_of(lambda: lf.get_prompt(absent, cache_ttl_seconds=0, max_retries=0))
    fallback = lf.get_prompt(absent, fallback="Fallback {{x}}", cache_ttl_seconds=0, max_retries=0)
    summary["fallback"] = {"is_fallback": fallback.is_fallback, "prompt": fallback.prompt}
    summary["bad_label"] = error_of(
        lambda: lf.create_prompt(name=f"compat-{run}-{major}-bad", prompt="x", labels=["Not Valid"])
    )
    summary["bad_update"] = error_of(lambda: lf.update_prompt(name=text_name, version=99, new_labels=["x"]))
    summary["expected_sdk_log"] = collector.records[expected_from:]
    del collector.records[expected_from:]
    finish(lf, summary, collector.records, timeout)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "v5")
