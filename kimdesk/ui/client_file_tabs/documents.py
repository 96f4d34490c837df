"""Dokumente: encrypted attachments of the file.

Plaintext never touches the disk on its own: a file is read into memory and encrypted into
the vault; "Anzeigen" decrypts in memory and shows text or images in a dialog; only
"Kopie speichern unter …" writes the plaintext, to a path the user chose, and that export is
audited. No temporary files. Encryption and decryption run off the GUI thread.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import documents, file_actions
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.models import Attachment
from kimdesk.models.enums import CaseKind
from kimdesk.ui.client_file_tabs.base import FileTab
from kimdesk.ui.client_file_tabs.rows import (
    case_label,
    compact,
    hint_label,
    make_table,
    selected_row,
)
from kimdesk.ui.dialogs import open_dialog
from kimdesk.ui.fields import CodeCombo, FieldErrors, format_date, save_cancel_buttons
from kimdesk.ui.operations import run_in_background
from kimdesk.ui.row_model import Column, RowTableModel
from kimdesk.ui.state import AppState

TEXT_TYPES = {"application/json", "application/xml", "application/csv"}
TEXT_SUFFIXES = {".txt", ".csv", ".md", ".log", ".json", ".xml"}


def format_size(size: int) -> str:
    if size < 1024:
        return f"{size} Byte"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB".replace(".", ",")
    return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")


def decode_text(content: bytes) -> str | None:
    """The content as text if it is text (UTF-8, else Windows-1252), otherwise None."""
    if b"\x00" in content[:4096]:
        return None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


@dataclass(frozen=True)
class DocumentRow:
    id: str
    filename: str
    media_type: str
    size: int
    added_on: date
    description: str
    case: str


def _error_message(exc: Exception) -> str:
    if isinstance(exc, KimdeskError):
        return exc.message
    if isinstance(exc, OSError):
        return "Die Datei konnte nicht gelesen oder geschrieben werden."
    return "Unerwarteter Fehler beim Verarbeiten des Dokuments."


class AddDocumentDialog(QDialog):
    """Dokument hinzufügen: a file, a description and optionally the case it belongs to."""

    def __init__(self, state: AppState, client_id: str, cases: list[tuple[str, str]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._client_id = client_id
        self.created: Attachment | None = None
        self.setWindowTitle("Dokument hinzufügen")
        self.setMinimumWidth(600)
        self.path = QLineEdit(objectName="document_path")
        self.path.setPlaceholderText("Datei wählen …")
        self.browse = QPushButton("Durchsuchen …", objectName="browse_document")
        self.description = QLineEdit(objectName="document_description")
        self.description.setPlaceholderText("z. B. Bescheid Jobcenter vom …")
        self.description.setMaxLength(300)
        self.case = CodeCombo(cases, empty="– zur Person, ohne Fall –", parent=self)
        self.case.setObjectName("document_case")
        compact(self.case)
        self.progress = QLabel(objectName="document_progress")
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(self.browse)
        form = QFormLayout()
        form.addRow("Datei*", path_row)
        form.addRow("Beschreibung", self.description)
        form.addRow("Fall", self.case)
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "filename": self.path, "content": self.path, "description": self.description})
        self.buttons = save_cancel_buttons(self, "Verschlüsselt speichern", self.save)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint_label(
            "Die Datei wird verschlüsselt im Datentresor gespeichert. Das Original bleibt, wo "
            "es ist – bitte dort löschen, wenn es nicht mehr gebraucht wird.", "document_hint"))
        layout.addWidget(self.progress)
        layout.addWidget(self.errors_label)
        layout.addWidget(self.buttons)
        self.browse.clicked.connect(self.choose_file)

    def choose_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, "Dokument wählen", str(Path.home()))
        if path:
            self.path.setText(path)

    def save(self) -> None:
        """Read and encrypt in the background; the dialog closes when the vault holds it."""
        self.errors.clear()
        text = self.path.text().strip()
        if not text:
            self.errors.show("Bitte eine Datei wählen.", "filename")
            return
        path = Path(text)
        try:
            if not path.is_file():
                raise ValidationError("Die Datei gibt es nicht (mehr).", "filename")
            if path.stat().st_size > documents.MAX_ATTACHMENT_BYTES:
                raise ValidationError("Die Datei ist größer als 50 MB.", "content")
        except ValidationError as exc:
            self.errors.show(exc.message, exc.field)
            return
        except OSError:
            self.errors.show("Die Datei kann nicht gelesen werden.", "filename")
            return
        ctx, client_id = self._state.ctx, self._client_id
        description, case_id = self.description.text().strip(), self.case.code()

        def work() -> Attachment:  # worker thread: no widgets here
            return documents.add_attachment(ctx, client_id, path.name, path.read_bytes(),
                                            case_id=case_id, description=description)

        self._set_busy(True)
        run_in_background(self, work, self._saved, self._failed)

    def _set_busy(self, busy: bool) -> None:
        self.progress.setText("Wird verschlüsselt gespeichert …" if busy else "")
        self.buttons.setEnabled(not busy)
        self.browse.setEnabled(not busy)

    def _saved(self, attachment: Attachment) -> None:
        self._set_busy(False)
        self.created = attachment
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self._set_busy(False)
        self.errors.show(_error_message(exc), getattr(exc, "field", None) or "filename")


class DocumentViewer(QDialog):
    """Shows a decrypted document from memory: images, text, or says it cannot preview."""

    def __init__(self, attachment: Attachment, content: bytes,
                 save_copy: Callable[[], None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("document_viewer")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(f"Dokument: {attachment.filename}")
        self.resize(900, 640)
        self.kind = "none"
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"<b>{html.escape(attachment.filename)}</b> · "
                                f"{format_size(attachment.size)}"
                                + (f" · {html.escape(attachment.description)}"
                                   if attachment.description else "")))
        self.content_widget: QWidget
        pixmap = QPixmap()
        text = None
        if attachment.media_type.startswith("image/") and pixmap.loadFromData(content):
            self.kind = "image"
            image = QLabel(objectName="document_image")
            image.setAlignment(Qt.AlignmentFlag.AlignCenter)
            image.setPixmap(pixmap)
            scroll = QScrollArea()
            scroll.setWidget(image)
            scroll.setWidgetResizable(True)
            self.content_widget = image
            layout.addWidget(scroll, 1)
        elif _looks_like_text(attachment) and (text := decode_text(content)) is not None:
            self.kind = "text"
            editor = QPlainTextEdit(objectName="document_text")
            editor.setReadOnly(True)
            editor.setPlainText(text)
            self.content_widget = editor
            layout.addWidget(editor, 1)
        else:
            label = QLabel("Vorschau nicht möglich. Mit „Kopie speichern unter …“ kann das "
                           "Dokument als Datei gespeichert und mit einem anderen Programm "
                           "geöffnet werden.", objectName="document_no_preview")
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.content_widget = label
            layout.addWidget(label, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        if save_copy is not None:
            copy = QPushButton("Kopie speichern unter …", objectName="viewer_save_copy")
            copy.clicked.connect(save_copy)
            buttons.addWidget(copy)
        close = QPushButton("Schließen", objectName="close_viewer")
        close.clicked.connect(self.close)
        buttons.addWidget(close)
        layout.addLayout(buttons)

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        # Drop the plaintext from the widgets as soon as the window goes.
        if isinstance(self.content_widget, QPlainTextEdit | QLabel):
            self.content_widget.clear()
        super().closeEvent(event)


def _looks_like_text(attachment: Attachment) -> bool:
    return (attachment.media_type.startswith("text/") or attachment.media_type in TEXT_TYPES
            or Path(attachment.filename).suffix.lower() in TEXT_SUFFIXES)


class DocumentsTab(FileTab):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.viewer: DocumentViewer | None = None
        self.model: RowTableModel[DocumentRow] = RowTableModel([
            Column("Name", lambda r: r.filename, stretch=True),
            Column("Größe", lambda r: format_size(r.size)),
            Column("hinzugefügt am", lambda r: format_date(r.added_on)),
            Column("Beschreibung", lambda r: r.description, stretch=True),
            Column("Fall", lambda r: r.case),
        ], self)
        self.table = make_table(self.model, "document_table", self)
        self.add_button = QPushButton("Hinzufügen …", objectName="add_document")
        self.view_button = QPushButton("Anzeigen", objectName="view_document")
        self.copy_button = QPushButton("Kopie speichern unter …", objectName="save_copy")
        self.delete_button = QPushButton("Löschen …", objectName="delete_document")
        self.status = QLabel(objectName="document_status")
        self.status.setWordWrap(True)
        self.consent_hint = hint_label(
            "Dokumente werden nur mit einer Einwilligung in die Datenverarbeitung gespeichert "
            "(Reiter „Einwilligungen“).", "documents_consent_hint")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        buttons.addWidget(self.view_button)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.addWidget(hint_label(
            "Dokumente liegen verschlüsselt im Datentresor und werden nur zum Anzeigen im "
            "Arbeitsspeicher entschlüsselt. Eine Kopie auf der Festplatte entsteht nur mit "
            "„Kopie speichern unter …“.", "documents_hint"))
        layout.addWidget(self.consent_hint)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self.add)
        self.view_button.clicked.connect(self.view_selected)
        self.copy_button.clicked.connect(self.save_copy_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.table.doubleClicked.connect(self.view_selected)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)

    def refresh(self) -> None:
        file = self._file
        assert file is not None
        case_labels = {c.id: case_label(c.kind, c.opened_on) for c in file.cases}
        rows = [DocumentRow(a.id, a.filename, a.media_type, a.size, a.created_at.date(),
                            a.description, case_labels.get(a.case_id or "", ""))
                for a in reversed(file.attachments)]
        self.model.set_rows(rows)
        consent = self.consent_active()
        self.consent_hint.setVisible(not consent)
        self.add_button.setEnabled(consent)
        self._update_buttons()

    def _update_buttons(self) -> None:
        chosen = self.selected() is not None
        for button in (self.view_button, self.copy_button, self.delete_button):
            button.setEnabled(chosen)

    def selected(self) -> DocumentRow | None:
        row = selected_row(self.table)
        return row if isinstance(row, DocumentRow) else None

    def select_document(self, attachment_id: str) -> None:
        for row, item in enumerate(self.model.rows()):
            if item.id == attachment_id:
                self.table.selectRow(row)

    # --- add ------------------------------------------------------------------------------------

    def add_dialog(self) -> AddDocumentDialog:
        assert self._file is not None
        cases = [(c.id, f"{CaseKind(c.kind).label} seit {format_date(c.opened_on)}")
                 for c in self._file.cases if c.status == "open"]
        return AddDocumentDialog(self._state, self._file.client.id, cases, parent=self)

    def add(self) -> None:
        dialog = self.add_dialog()
        dialog.choose_file()
        if not dialog.path.text():
            return
        open_dialog(dialog, self.document_added)

    def document_added(self, dialog: AddDocumentDialog) -> None:
        if dialog.created is not None:
            self.status.setText(f"„{dialog.created.filename}“ verschlüsselt gespeichert.")

    # --- view -----------------------------------------------------------------------------------

    def view_selected(self) -> None:
        row = self.selected()
        if row is None:
            return
        ctx = self._state.ctx
        self.status.setText("Wird entschlüsselt …")
        run_in_background(self, lambda: documents.read_attachment(ctx, row.id),
                          self._show_viewer, self._failed)

    def _show_viewer(self, result: tuple[Attachment, bytes]) -> None:
        attachment, content = result
        self.status.clear()
        if self.viewer is not None:
            self.viewer.close()
        self.viewer = DocumentViewer(attachment, content,
                                     save_copy=lambda: self.save_copy(attachment.id,
                                                                      attachment.filename),
                                     parent=self)
        self.viewer.destroyed.connect(self._viewer_gone)
        self.viewer.open()

    def _viewer_gone(self) -> None:
        self.viewer = None

    def _failed(self, exc: Exception) -> None:
        self.status.clear()
        self.report_error("Dokument", _error_message(exc))

    # --- copy -----------------------------------------------------------------------------------

    def save_copy_selected(self) -> None:
        row = self.selected()
        if row is not None:
            self.save_copy(row.id, row.filename)

    def save_copy(self, attachment_id: str, filename: str) -> None:
        """The one explicit act that writes a document's plaintext to disk."""
        target, _filter = QFileDialog.getSaveFileName(
            self, "Kopie speichern unter", str(Path.home() / filename))
        if not target:
            return
        ctx, path = self._state.ctx, Path(target)

        def work() -> Path:  # worker thread: no widgets here
            _attachment, content = file_actions.export_attachment(ctx, attachment_id)
            path.write_bytes(content)
            return path

        self.status.setText("Kopie wird gespeichert …")
        run_in_background(self, work, self._copied, self._failed)

    def _copied(self, path: Path) -> None:
        self.status.setText(f"Kopie gespeichert: {path}. Bitte dort löschen, wenn sie nicht mehr "
                            "gebraucht wird.")

    # --- delete ---------------------------------------------------------------------------------

    def delete_selected(self) -> None:
        row = self.selected()
        if row is None:
            return
        answer = QMessageBox.question(
            self, "Dokument löschen",
            f"„{row.filename}“ endgültig aus dem Datentresor löschen?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            documents.delete_attachment(self._state.ctx, row.id)
        except KimdeskError as exc:
            self.report_error("Dokument", exc.message)
            return
        self.status.setText(f"„{row.filename}“ gelöscht.")
