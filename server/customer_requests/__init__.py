"""What customers ask for: back-in-stock calls, special orders, holds, alterations…

Named `customer_requests` so it never shadows the `requests` HTTP library.
"""
