"""Discovery pages: who may open them, describing a list and opening the suggestion as a draft."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client

from .conftest import THREE_CONDITIONS, members_of

pytestmark = pytest.mark.django_db


def _client(make_user, *roles) -> Client:
    client = Client()
    client.force_login(make_user(*roles))
    return client


@pytest.mark.parametrize("role", ["brand", "admin"])
def test_brand_and_admin_open_the_page(make_user, role):
    page = _client(make_user, role).get("/discovery/")
    assert page.status_code == 200
    assert "Start from a list" in page.content.decode()
    assert "Find personas" in page.content.decode()


@pytest.mark.parametrize("role", ["access", "medical", "compliance", "field_lead"])
def test_other_roles_get_403(make_user, role):
    assert _client(make_user, role).get("/discovery/").status_code == 403
    assert _client(make_user, role).post("/discovery/personas/", {}).status_code == 403


def test_anonymous_is_sent_to_login(db):
    response = Client().get("/discovery/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_nav_shows_discovery_to_brand_only(make_user):
    assert 'href="/discovery/"' in _client(make_user, "brand").get("/segments/").content.decode()
    assert (
        'href="/discovery/"' not in _client(make_user, "medical").get("/segments/").content.decode()
    )


def test_describe_shows_the_rule_and_opens_it_as_a_draft(population, make_user):
    client = _client(make_user, "brand")
    npis = "\n".join(members_of(THREE_CONDITIONS))
    fragment = client.post(
        "/discovery/describe/",
        {"npis": npis, "as_of": "2026-06-30T12:00:00Z"},
        HTTP_HX_REQUEST="true",
    )
    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert "specialty is cardiology or endocrinology" in html
    assert "Precision" in html and "Open as draft" in html
    href = html.split('class="button primary" href="')[1].split('"')[0].replace("&amp;", "&")
    query = parse_qs(urlparse(href).query)
    assert json.loads(query["provenance"][0])["discovery"] > 0
    form = client.get(href).content.decode()
    assert "cardiology" in form and 'name="provenance"' in form


def test_uploaded_file_of_npis_is_read(population, make_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = _client(make_user, "brand")
    body = "npi\n" + "\n".join(members_of(THREE_CONDITIONS))
    upload = SimpleUploadedFile("list.csv", body.encode(), content_type="text/csv")
    page = client.post("/discovery/describe/", {"file": upload})
    assert page.status_code == 200 and "Open as draft" in page.content.decode()


def test_bad_list_shows_the_message_next_to_the_form(population, make_user):
    page = _client(make_user, "brand").post("/discovery/describe/", {"npis": "123 456"})
    assert page.status_code == 400
    assert "at least 10" in page.content.decode()


def test_personas_table_has_sizes_labels_bars_and_drafts(population, make_user):
    page = _client(make_user, "brand").post(
        "/discovery/personas/", {"k": "2", "families": ["profile", "rx"]}, HTTP_HX_REQUEST="true"
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("Open as draft") == 2
    assert 'class="pbar persona"' in html
    assert html.count("of every 100 in this persona") == 2  # fidelity said in words


def test_text_from_the_list_is_escaped(population, make_user):
    page = _client(make_user, "brand").post(
        "/discovery/describe/", {"npis": " ".join(f"<b>{i}</b>" for i in range(12))}
    )
    html = page.content.decode()
    assert page.status_code == 400
    assert "<b>1</b>" not in html and "&lt;b&gt;1&lt;/b&gt;" in html


def test_saving_the_prefilled_form_keeps_the_provenance(population, make_user):
    from segmentation.models import SegmentVersion

    client = _client(make_user, "brand")
    body = client.post(  # session authentication reaches the API too
        "/api/v1/discovery/describe/",
        {"npis": members_of(THREE_CONDITIONS), "as_of": "2026-06-30T12:00:00Z"},
        content_type="application/json",
    ).json()
    response = client.post(
        "/segments/new/",
        {
            "key": "from-page",
            "name": "From the page",
            "purpose": "promotional",
            "entry_rule": json.dumps(body["entry_rule"]),
            "provenance": json.dumps({"discovery": body["id"]}),
            "confirm_scope": "1",  # its windows lie before today: it selects no one now
        },
    )
    assert response.status_code == 302
    provenance = SegmentVersion.objects.get(segment__key="from-page").provenance
    assert provenance["discovery"] == body["id"] and provenance["edited"] is False


def test_with_workers_the_page_queues_a_job_and_polls_it_to_the_result(
    population, make_user, settings, django_capture_on_commit_callbacks, monkeypatch
):
    from core.models import Job, JobState
    from discovery.tasks import describe_task

    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued = []
    monkeypatch.setattr(describe_task, "delay", lambda *args: queued.append(args))
    client = _client(make_user, "brand")
    with django_capture_on_commit_callbacks(execute=True):
        fragment = client.post(
            "/discovery/describe/",
            {"npis": "\n".join(members_of(THREE_CONDITIONS)), "as_of": "2026-06-30T12:00:00Z"},
            HTTP_HX_REQUEST="true",
        )
    assert fragment.status_code == 202
    job = Job.objects.get()
    html = fragment.content.decode()
    assert f'hx-get="/discovery/tasks/{job.pk}/"' in html and "<progress" in html
    assert f"/api/v1/tasks/{job.pk}/" in html
    # Not run yet: polling shows the progress again.
    assert "<progress" in client.get(f"/discovery/tasks/{job.pk}/").content.decode()
    describe_task(*queued[0])  # what the worker runs
    assert Job.objects.get().state == JobState.SUCCEEDED
    done = client.get(f"/discovery/tasks/{job.pk}/").content.decode()
    assert "specialty is cardiology or endocrinology" in done and "Open as draft" in done
    # Someone else's job is not shown.
    assert _client(make_user, "brand").get(f"/discovery/tasks/{job.pk}/").status_code == 404


def test_with_workers_bad_input_is_shown_at_once_and_nothing_is_queued(
    population, make_user, settings
):
    from core.models import Job

    settings.CELERY_TASK_ALWAYS_EAGER = False
    fragment = _client(make_user, "brand").post(
        "/discovery/personas/", {"k": "40"}, HTTP_HX_REQUEST="true"
    )
    assert fragment.status_code == 400 and "out of range" in fragment.content.decode()
    assert not Job.objects.exists()


def test_with_workers_a_failed_job_shows_its_message(population, make_user, settings):
    from core.errors import ValidationFailed
    from core.jobs import run_job, start_job

    user = make_user("brand")
    client = Client()
    client.force_login(user)
    job = start_job(kind="discovery.personas", owner=user)

    def refuse(progress):
        raise ValidationFailed("every feature is constant over this population", path="parent")

    run_job(job_id=job.pk, work=refuse)
    html = client.get(f"/discovery/tasks/{job.pk}/").content.decode()
    assert "every feature is constant" in html
