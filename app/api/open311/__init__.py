"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2): the frozen standard for civic-issue apps, on
top of the same service catalogue, generated field checks and workflow as the staff screens and the portal.
jurisdiction_id is the organisation's DLA code; every call but discovery names one."""
