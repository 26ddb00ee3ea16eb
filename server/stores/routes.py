"""HTTP for stores and for "who am I"."""

from __future__ import annotations

from flask.views import MethodView

from server.core.api import Blueprint
from server.extensions import db
from server.stores import service
from server.stores.auth import authorized, current_actor
from server.stores.schemas import MeOut, StoreCreate, StoreList, StoreOut

blp = Blueprint("stores", __name__, url_prefix="/api/v1",
                description="Stores, and what the calling key is bound to.")


@blp.route("/me")
class Me(MethodView):
    @authorized("me:read")
    @blp.response(200, MeOut)
    def get(self):
        """The calling key's scope, and the store and device it is bound to."""
        actor = current_actor()
        store = service.get_store(db.session, actor.store_id) if actor.store_id else None
        return {"scope": actor.scope, "label": actor.label, "store": store,
                "device_id": actor.device_id}


@blp.route("/stores")
class Stores(MethodView):
    @authorized("stores:read")
    @blp.response(200, StoreList)
    def get(self):
        """The stores this key may see (a tablet: its own)."""
        return {"items": service.visible_stores(db.session, current_actor())}

    @authorized("stores:write")
    @blp.arguments(StoreCreate)
    @blp.response(201, StoreOut)
    def post(self, data):
        store = service.create_store(db.session, **data)
        db.session.commit()
        return store


@blp.route("/stores/<uuid:store_id>")
class StoreById(MethodView):
    @authorized("stores:read")
    @blp.response(200, StoreOut)
    def get(self, store_id):
        return service.visible_store(db.session, current_actor(), store_id)
