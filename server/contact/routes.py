"""HTTP for the contact policy and follow-up tasks."""

from __future__ import annotations

from flask.views import MethodView

from server.contact import followups, service
from server.contact.schemas import (
    ClaimBody,
    ClaimedTasks,
    ContactQuery,
    DecisionOut,
    DecisionQuery,
    FollowUpCreate,
    FollowUpListArgs,
    FollowUpOut,
    FollowUpPage,
    OptionsOut,
    OutcomeBody,
    OutcomeOut,
)
from server.core.api import Blueprint
from server.extensions import db
from server.stores.auth import authorized, current_actor

policy_blp = Blueprint("contact", __name__, url_prefix="/api/v1/customers",
                       description="May we contact this customer, for this purpose, on this "
                                   "channel, now? Every reason, with where it came from.")
followups_blp = Blueprint("follow-ups", __name__, url_prefix="/api/v1/follow-ups",
                          description="Contacts the policy allows, for channel systems to "
                                      "claim (with a lease) and report on.")


@policy_blp.route("/<uuid:customer_id>/contact-decision")
class ContactDecision(MethodView):
    @authorized("contact:read")
    @policy_blp.arguments(DecisionQuery, location="query")
    @policy_blp.response(200, DecisionOut)
    def get(self, args, customer_id):
        """Allowed or not, every reason, the obligations, and when it would be allowed."""
        decision = service.decide(db.session, current_actor(), customer_id,
                                  args["purpose"], args["channel"], service.context_of(args))
        return decision


@policy_blp.route("/<uuid:customer_id>/contact-options")
class ContactOptions(MethodView):
    @authorized("contact:read")
    @policy_blp.arguments(ContactQuery, location="query")
    @policy_blp.response(200, OptionsOut)
    def get(self, args, customer_id):
        """Every channel's decision, the allowed ones first in the customer's order."""
        options = service.show_options(db.session, current_actor(), customer_id,
                                       args["purpose"], service.context_of(args))
        return options


@followups_blp.route("")
class FollowUps(MethodView):
    @authorized("followups:read")
    @followups_blp.arguments(FollowUpListArgs, location="query")
    @followups_blp.response(200, FollowUpPage)
    def get(self, args):
        """Follow-ups, newest first, with the reasons of each decision."""
        limit, after = args.pop("limit"), args.pop("after")
        items, next_token = followups.find(db.session, args, limit, after)
        return {"items": items, "next": next_token}

    @authorized("followups:write")
    @followups_blp.arguments(FollowUpCreate)
    @followups_blp.response(201, FollowUpOut)
    def post(self, data):
        """Ask for a follow-up: it goes to the best allowed channel, waits, or is
        suppressed with its reasons. The same topic for the same customer is one task."""
        task = followups.create(db.session, current_actor(), data["customer_id"],
                                data["purpose"], data["topic"], data["request_id"])
        db.session.commit()
        return task, 201


@followups_blp.route("/claim")
class Claim(MethodView):
    @authorized("followups:work")
    @followups_blp.arguments(ClaimBody)
    @followups_blp.response(200, ClaimedTasks)
    def post(self, data):
        """Lease tasks of this key's channel that the policy allows now."""
        items = followups.lease(db.session, current_actor(), data["limit"],
                                data["lease_seconds"])
        db.session.commit()
        return {"items": items}


@followups_blp.route("/<uuid:follow_up_id>/outcome")
class Outcome(MethodView):
    @authorized("followups:work")
    @followups_blp.arguments(OutcomeBody)
    @followups_blp.response(200, OutcomeOut)
    def post(self, data, follow_up_id):
        """What happened: sent, replied, stop (withdraws), failed (retried), bounced
        (suppressed). The same report again answers the same and changes nothing."""
        task = followups.report(db.session, current_actor(), follow_up_id, data["claim_id"],
                                data["outcome"], data["detail"])
        db.session.commit()
        return task
