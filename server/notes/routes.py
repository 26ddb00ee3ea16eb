"""HTTP for notes."""

from __future__ import annotations

from flask.views import MethodView

from server.core.api import Blueprint
from server.core.http import etag_for, expected_version
from server.extensions import db
from server.notes import service
from server.notes.schemas import NoteCreate, NoteListArgs, NoteOut, NotePage, NoteUpdate
from server.stores.auth import authorized, current_actor

blp = Blueprint("notes", __name__, url_prefix="/api/v1/notes",
                description="Notes about a customer or a request; sensitive ones are flagged.")


@blp.route("")
class Notes(MethodView):
    @authorized("notes:read")
    @blp.arguments(NoteListArgs, location="query")
    @blp.response(200, NotePage)
    def get(self, args):
        limit, after = args.pop("limit"), args.pop("after")
        items, next_token = service.search(db.session, current_actor(), args, limit, after)
        return {"items": items, "next": next_token}

    @authorized("notes:write")
    @blp.arguments(NoteCreate)
    @blp.response(201, NoteOut)
    def post(self, data):
        """Add a note. A note that looks sensitive is saved flagged, with a warning."""
        note = service.add(db.session, current_actor(), data)
        db.session.commit()
        return note, 201, {"ETag": etag_for(note.version),
                           "Location": f"/api/v1/notes/{note.id}"}


@blp.route("/<uuid:note_id>")
class NoteById(MethodView):
    @authorized("notes:read")
    @blp.response(200, NoteOut)
    def get(self, note_id):
        note = service.show(db.session, current_actor(), note_id)
        return note, 200, {"ETag": etag_for(note.version)}

    @authorized("notes:write")
    @blp.arguments(NoteUpdate)
    @blp.response(200, NoteOut)
    def patch(self, data, note_id):
        note = service.amend(db.session, current_actor(), note_id, data["body"],
                             expected_version())
        db.session.commit()
        return note, 200, {"ETag": etag_for(note.version)}

    @authorized("notes:write")
    @blp.response(204)
    def delete(self, note_id):
        service.remove(db.session, current_actor(), note_id, expected_version())
        db.session.commit()
