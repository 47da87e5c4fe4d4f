"""Import pages (brand, admin): upload, check, confirm, progress and history
(docs/imports.md, "In the browser"). The work is ``customers.import_runs``' and the
workers'; these views collect the file and show where each import stands."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.mixins import page_permission, sorted_page
from accounts.permissions import allowed
from core.errors import DomainError, ErrorDetail, ValidationFailed

from . import import_runs, tasks
from .models import ImportRun
from .services import all_kinds, import_action

KIND_HELP = {
    "accounts": "Practices, hospitals and IDNs",
    "customers": "HCPs by NPI, with attr.* columns",
    "interactions": "Emails, visits, webinars…",
    "rx": "Monthly prescribing facts",
    "assets": "Content assets exported from the MLR system",
    "nppes": "NPPES npidata_pfile (public NPI registry, as published)",
    "taxonomy": "NUCC taxonomy code set CSV (maps codes to specialties)",
    "partd": "Medicare Part D Prescribers by Provider and Drug, with its data year",
    "alignment": "Territory alignment: zip3 or zip5 -> territory",
}


@page_permission("import_data")
def import_list(request: HttpRequest) -> HttpResponse:
    """Upload a file (it is checked first, nothing written) and the history of imports.

    ``/imports/`` is brand's and admin's page (docs/pages.md); compliance uploads
    MLR exports on ``/content/import/``, which renders this same page limited to
    the ``assets`` kind (``import_page``).
    """
    return import_page(request, kinds=None)


def import_page(request: HttpRequest, *, kinds: tuple[str, ...] | None) -> HttpResponse:
    """The upload form and history, offering ``kinds`` (every kind the user may import if None)."""
    errors: list[ErrorDetail] = []
    status = 200
    kind = request.POST.get("kind", "") if request.method == "POST" else ""
    offered = [
        k
        for k in all_kinds()
        if (kinds is None or k in kinds) and allowed(request.user, import_action(k))
    ]
    if request.method == "POST":
        try:
            if kind not in offered:
                raise ValidationFailed(f"'{kind}' is not a kind you can import here", path="kind")
            run = import_runs.store_upload(
                kind=kind,
                upload=request.FILES.get("file"),
                user=request.user,
                options={"data_year": request.POST.get("data_year", "")},
            )
        except DomainError as exc:
            errors, status = list(exc.errors), exc.status
        else:
            tasks.queue_import_step(run, "check")
            return redirect("customers:import_detail", pk=run.pk)
    runs = ImportRun.objects.select_related("user")
    if kinds is not None:
        runs = runs.filter(kind__in=kinds)
    if not request.user.has_role("admin"):
        runs = runs.filter(user=request.user)
    page, sort = sorted_page(
        request, runs, sorts=("started_at", "file_name", "kind", "state"), default="-started_at"
    )
    return render(
        request,
        "customers/import_list.html",
        {
            "kinds": [(k, KIND_HELP.get(k, "")) for k in offered],
            "kind": kind,
            "data_year": request.POST.get("data_year", "") if request.method == "POST" else "",
            "errors": errors,
            "page_obj": page,
            "sort": sort,
        },
        status=status,
    )


@page_permission("use_imports")
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One import: its check (counts and every error), the confirm button, progress, outcome."""
    run = import_runs.run_for(pk=pk, user=request.user)
    return render(
        request,
        "customers/import_detail.html",
        {"run": run, "status": tasks.import_status(run)},
    )


@page_permission("use_imports")
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx: the progress bar, polled while a worker checks or writes; reloads when done."""
    run = import_runs.run_for(pk=pk, user=request.user)
    status = tasks.import_status(run)
    response = render(
        request, "customers/partials/import_progress.html", {"run": run, "status": status}
    )
    if run.state in import_runs.FINISHED:
        response["HX-Refresh"] = "true"
    return response


@require_POST
@page_permission("use_imports")
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Write a checked import: queued for the workers."""
    run = import_runs.run_for(pk=pk, user=request.user)
    run = import_runs.confirm_run(run=run, user=request.user)
    run = tasks.queue_import_step(run, "write")
    if run.state == "succeeded":
        messages.success(request, f"Imported {run.file_name}.")
    return redirect("customers:import_detail", pk=run.pk)


TEMPLATES_DIR = settings.BASE_DIR / "static" / "import-templates"


@page_permission("use_imports")
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    """A CSV with the columns of ``kind`` and one example row, to start a file from."""
    path = TEMPLATES_DIR / f"{kind}.csv"
    if kind not in all_kinds() or not path.is_file():
        raise Http404("No template for this kind")
    response = HttpResponse(path.read_bytes(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    return response
