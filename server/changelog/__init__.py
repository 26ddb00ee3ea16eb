"""The one ordered change log every write appends to (DESIGN.md "change and cursor").

A base layer: it imports nothing above core. The domains register at app start what
they write into it (`bodies.register`: each entity's tablet view, a request's status
history); webhooks subscribe to what a commit writes (`service.on_written`); the
customers give it the question it asks of every capture (`service.refuse_captures_for`).
`scope` keeps which customers each store's tablets hold, beside its table.
"""
