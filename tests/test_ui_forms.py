"""The Run forms of `new-video` and `new-batch`: what Prefect's server refuses from the schema
alone, what project_input's rules refuse (by the form's field names), and one row per flow run.

The schema checks use Prefect's own validator, the one its server applies to a flow run created
from a deployment (and its UI to the form)."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy
from prefect.utilities.callables import parameter_schema
from prefect.utilities.schema_tools.validation import validate

from flows.new_batch import new_batch
from flows.new_video import new_video
from tests.test_batch import SHORT_EN, SHORT_ZH
from ytmaker import batch, db, voices
from ytmaker.errors import InputError
from ytmaker.forms import NewBatch, NewVideo, batch_plan, video_fields
from ytmaker.models import BatchTask, Project
from ytmaker.per_run import batch_for_run, project_for_run
from ytmaker.project_input import new_project

FORM = {"name": "早餐店", "content": SHORT_ZH}


def schema_errors(flow, parameters: dict) -> list[str]:
    """What the Prefect server answers a create-flow-run with these parameters (and the UI
    shows under the field): the failing fields' paths."""
    schema = parameter_schema(flow.fn).model_dump_for_openapi()
    return [".".join(map(str, e.path)) for e in validate(parameters, schema, raise_on_error=False)]


def refused(form: dict) -> dict[str, str]:
    with pytest.raises(InputError) as error:
        video_fields(NewVideo(**form))
    return {p["field"]: p["message"] for p in error.value.details["problems"]}


# --- the form's schema: typed, documented, refusing what it can ---------------------------------


def test_the_new_video_form_is_typed_and_documented() -> None:
    schema = parameter_schema(new_video.fn).model_dump_for_openapi()
    form = schema["definitions"]["NewVideo"]["properties"]
    assert set(form) == {
        "name",
        "content",
        "language",
        "privacy",
        "publish_at",
        "tags",
        "review",
        "format",
        "length",
        "captions",
        "voice",
        "voice_rate",
        "voice_pitch",
        "prompt_template",
    }
    assert all(field["title"] and field["description"] for field in form.values())
    assert form["voice"]["enum"][:4] == ["", *voices.NAMES[:3]]  # the Edge voices, zh-TW first
    assert (form["review"]["default"], form["review"]["enum"]) == (
        "default",
        ["default", "none", "script", "upload", "both"],
    )
    assert form["language"]["enum"] == ["zh-TW", "en"]  # drop-downs
    assert form["format"]["enum"] == ["landscape", "shorts"]
    assert form["captions"]["enum"] == ["line", "words"]
    assert form["length"]["enum"] == ["standard", "short"]
    assert form["privacy"]["enum"] == ["private", "unlisted", "public"]
    assert "Asia/Taipei" in form["publish_at"]["description"]
    assert schema["definitions"]["NewVideo"]["required"] == ["name", "content"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "video.name"),
        ({"name": "x" * 201}, "video.name"),
        ({"content": ""}, "video.content"),
        ({"content": "字" * 50_001}, "video.content"),
        ({"language": "fr"}, "video.language"),
        ({"privacy": "secret"}, "video.privacy"),
        ({"publish_at": "next friday"}, "video.publish_at"),
        ({"tags": ["x" * 101]}, "video.tags.0"),
        ({"tags": [""]}, "video.tags.0"),
        ({"colour": "red"}, "video"),
        ({"voice": "Robot"}, "video.voice"),
        ({"voice_rate": "fast"}, "video.voice_rate"),
    ],
)
def test_the_server_refuses_what_the_schema_can_express(change: dict, field: str) -> None:
    assert schema_errors(new_video, {"video": {**FORM, **change}}) == [field]


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"language": "en", "privacy": "unlisted", "tags": ["台灣", "早餐"]},
        {"publish_at": "2030-12-24 20:00"},
        {"publish_at": "2030-12-24T20:00:00+09:00"},
        {"publish_at": "2030-12-24T12:00Z", "prompt_template": "寫一段：{content}"},
    ],
)
def test_the_schema_lets_good_forms_through(change: dict) -> None:
    assert schema_errors(new_video, {"video": {**FORM, **change}}) == []


def test_the_batch_form_takes_yaml_or_a_list_of_new_video_forms() -> None:
    schema = parameter_schema(new_batch.fn).model_dump_for_openapi()
    form = schema["definitions"]["NewBatch"]["properties"]
    assert form["projects"]["items"] == {"$ref": "#/definitions/NewVideo"}
    assert "content_file" in form["batch_yaml"]["description"]
    bad = {"batch": {"projects": [FORM, {**FORM, "language": "fr"}]}}
    assert schema_errors(new_batch, bad) == ["batch.projects.1.language"]


# --- the rules Prefect cannot express: project_input's, by the form's names ----------------------


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"name": "   "}, "name", "is empty"),
        ({"name": "a\x00b"}, "name", "U+0000"),
        ({"name": "two\nlines"}, "name", "U+000A"),
        ({"content": "ok\x1b[31m"}, "content", "U+001B"),
        ({"publish_at": "2020-01-01 08:00"}, "publish_at", "in the past"),
        ({"publish_at": "2030-02-30 08:00"}, "publish_at", "datetime"),
        ({"publish_at": "2030-01-01 08:00", "privacy": "public"}, "publish_at", "must be private"),
        ({"tags": ["x" * 60] * 9}, "tags", "500 characters"),
        ({"prompt_template": "no placeholder"}, "prompt_template", "must contain {content}"),
        ({"prompt_template": "{content} {__class__}"}, "prompt_template", "unknown placeholder"),
    ],
)
def test_project_input_rules_name_the_form_field(change: dict, field: str, words: str) -> None:
    problems = refused({**FORM, **change})
    assert list(problems) == [field]
    assert words in problems[field]


def test_every_broken_field_is_listed_at_once() -> None:
    problems = refused(
        {"name": "a\x07", "content": " ", "publish_at": "2020-01-01 08:00", "prompt_template": "x"}
    )
    assert list(problems) == ["name", "content", "publish_at", "prompt_template"]


def test_the_form_stores_what_the_command_line_stores() -> None:
    """One rule set: the form's fields and `ytmaker project create`'s give the same row."""
    form = NewVideo(**FORM, publish_at="2030-12-24 20:00", tags=[" 台灣 "], prompt_template="")
    cli = new_project(FORM["name"], SHORT_ZH, "zh-TW", {"publish_at": "2030-12-24 20:00"})
    fields = video_fields(form)
    assert fields["youtube_settings"] == {
        "privacy": "private",
        "publish_at": "2030-12-24T12:00:00Z",  # Asia/Taipei when no offset is given
        "tags": ["台灣"],
    }
    assert {k: v for k, v in fields.items() if k != "youtube_settings"} == {
        k: v for k, v in cli.items() if k != "youtube_settings"
    }


# --- the batch form ----------------------------------------------------------------------------


def test_batch_yaml_text_becomes_a_plan() -> None:
    text = (
        "name: 小吃\nyoutube: {privacy: unlisted}\nprojects:\n"
        f"  - name: 早餐店\n    content: |\n      {SHORT_ZH.splitlines()[1]}\n"
        "  - name: Bubble tea\n    language: en\n    content: Bubble tea was born in Taichung.\n"
        "    youtube: {publish_at: 2030-12-24 20:00}\n"
    )
    plan = batch_plan(NewBatch(batch_yaml=text))
    assert plan.name == "小吃"
    assert [(p.name, p.language) for p in plan.projects] == [
        ("早餐店", "zh-TW"),
        ("Bubble tea", "en"),
    ]
    assert plan.projects[1].youtube_settings == {
        "privacy": "private",
        "publish_at": "2030-12-24T12:00:00Z",
    }
    assert plan.projects[0].youtube_settings == {"privacy": "unlisted"}


def test_batch_yaml_may_not_name_files_of_the_worker(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-42", encoding="utf-8")
    text = f"projects:\n  - name: a\n    content: fine\n  - name: b\n    content_file: {secret}\n"
    with pytest.raises(InputError) as error:
        batch_plan(NewBatch(batch_yaml=text))
    assert [p["field"] for p in error.value.details["problems"]] == ["projects[1].content_file"]
    assert "paste the text" in error.value.message
    assert "SECRET-42" not in error.value.message


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({}, "not both and not neither"),
        ({"batch_yaml": "projects: []", "projects": [FORM]}, "not both and not neither"),
        ({"batch_yaml": "projects: [\n"}, "not valid YAML"),
        ({"batch_yaml": "projects:\n  - name: x\n    language: fr\n    content: y\n"}, "fr"),
        ({"batch_yaml": "- just a list"}, "expected a mapping"),
    ],
)
def test_a_bad_batch_form_is_refused_whole(form: dict, words: str) -> None:
    with pytest.raises(InputError) as error:
        batch_plan(NewBatch(**form))
    assert words in error.value.message


def test_a_list_batch_names_each_broken_project() -> None:
    form = NewBatch(
        name="清單",
        projects=[FORM, {**FORM, "publish_at": "2020-01-01 00:00"}, {**FORM, "name": "\x00"}],
    )
    with pytest.raises(InputError) as error:
        batch_plan(form)
    assert [p["field"] for p in error.value.details["problems"]] == [
        "projects[1].publish_at",
        "projects[2].name",
    ]
    plan = batch_plan(NewBatch(name=" 清單 ", projects=[FORM, {**FORM, "language": "en"}]))
    assert plan.name == "清單" and [p.language for p in plan.projects] == ["zh-TW", "en"]


# --- one row per flow run -------------------------------------------------------------------------


@pytest.fixture
def repo(database_url: str) -> db.Repository:
    return db.Repository(database_url)


def count(repo: db.Repository, model: type) -> int:
    with repo.session() as session:
        return session.scalar(sqlalchemy.select(sqlalchemy.func.count()).select_from(model))


def test_a_flow_run_makes_its_project_once(repo: db.Repository) -> None:
    run, other = str(uuid.uuid4()), str(uuid.uuid4())
    fields = video_fields(NewVideo(**FORM))
    first, made = project_for_run(repo, run, fields)
    again, made_again = project_for_run(repo, run, fields)
    third, _ = project_for_run(repo, other, fields)
    assert (made, made_again) == (True, False)
    assert again.id == first.id != third.id
    assert count(repo, Project) == 2


def test_two_attempts_racing_still_make_one_project(repo: db.Repository) -> None:
    run = str(uuid.uuid4())
    fields = video_fields(NewVideo(**FORM))
    start = threading.Barrier(4)
    ids: list[int] = []

    def attempt() -> None:
        start.wait()
        ids.append(project_for_run(repo, run, fields)[0].id)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 4 and len(set(ids)) == 1
    assert count(repo, Project) == 1


def test_a_flow_run_makes_its_batch_once(repo: db.Repository) -> None:
    run = str(uuid.uuid4())
    plan = batch_plan(NewBatch(projects=[FORM, {**FORM, "content": SHORT_EN, "language": "en"}]))
    row, made = batch_for_run(repo, run, plan)
    again, made_again = batch_for_run(repo, run, plan)
    assert (made, made_again) == (True, False) and again.id == row.id
    assert count(repo, BatchTask) == 1 and count(repo, Project) == 2
    assert [p.language for p in batch.batch_projects(repo, row.id)] == ["zh-TW", "en"]


def test_an_older_database_gets_the_run_key_unique(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = db.Repository(url).create_project(name="old", content="x").id
    with db.get_engine(url).begin() as conn:
        for table in ("projects", "batch_tasks"):
            conn.execute(sqlalchemy.text(f"DROP INDEX ix_{table}_created_by_run"))
            conn.execute(sqlalchemy.text(f"ALTER TABLE {table} DROP COLUMN created_by_run"))
    db.dispose_engines()

    repo = db.Repository(url)
    assert repo.get_project(old).created_by_run is None
    repo.create_project(name="no run", content="x")  # several rows without a run: allowed
    repo.create_project(name="run", content="x", created_by_run="r1")
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        repo.create_project(name="run again", content="x", created_by_run="r1")
    db.dispose_engines()


def test_an_upgrade_tolerates_another_process_making_the_index_first(tmp_path: Path) -> None:
    from ytmaker.migrate import _create_index

    engine = db.get_engine(f"sqlite:///{tmp_path / 'both.db'}")  # its index already made
    (index,) = Project.__table__.indexes
    _create_index(engine, index)  # as the slower of two processes upgrading at once
    other = sqlalchemy.Table("projects", sqlalchemy.MetaData(), sqlalchemy.Column("nope"))
    with pytest.raises(sqlalchemy.exc.DatabaseError):  # one that cannot be made: still an error
        _create_index(engine, sqlalchemy.Index("ix_broken", other.c.nope))
    db.dispose_engines()
