"""The correspondence fixture builds look-alike people and central registers in both tenants."""
from tests.saraban.people import saraban  # noqa: F401


def test_both_tenants_have_people_and_central_registers(saraban):  # noqa: F811
    a, b = saraban["a"], saraban["b"]
    assert {"clerk", "palad", "engdir", "engofficer", "mayor", "admin", "officer"} <= set(a.users)
    wanted = {"clerk", "palad", "engdir", "engofficer"}
    assert wanted <= set(b.users)
    assert a.incoming_register_id != b.incoming_register_id
    assert a.users["clerk"] != b.users["clerk"]
