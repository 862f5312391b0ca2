"""The baselines bench_scale.py measures our app against, over the same tables (a script module, not a test).

    gunicorn --chdir tests/benchmarks 'stock_fab_app:create_app()'      stock Flask-AppBuilder 5.3
    gunicorn --chdir tests/benchmarks 'stock_fab_app:create_plain_app()' plain Flask + SQLAlchemy
    python tests/benchmarks/stock_fab_app.py create-user USERNAME PASSWORD

Environment: STOCK_DATABASE_URL (the tables' owner: no tenant is set, so row-level security must not bind it).

create_app(): a tiny FAB app as its documentation builds one: a plain `ModelView` and a plain `ModelRestApi`
over service_requests with many-to-one relationships to service_types and divisions (FAB's default lazy
loading), the tenant only as `base_filters` on tenant_id (FilterEqualFunction), no tenant guard, FAB's own
security manager and permission checks. The tenant comes from the X-Bench-Tenant header (a stand-in for the
user's tenant: stock FAB has no notion of one).

create_plain_app(): the same page as our REST list (/api/v1/service-request/: 25 newest requests with their
service code, version and division code, and the count) written by hand with Flask and SQLAlchemy, at
/plain/requests?tenant=ID&page=N."""
from __future__ import annotations

import os
import sys
from datetime import datetime
from decimal import Decimal

from flask import Flask, jsonify, request
from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, Numeric, String, create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, joinedload, mapped_column, relationship

URL_ENV = "STOCK_DATABASE_URL"
SECRET = "stock-benchmark-secret-key-with-at-least-32-bytes"


def _url() -> str:
    url = os.environ.get(URL_ENV) or os.environ.get("DATABASE_OWNER_URL") or os.environ.get("DATABASE_URL")
    if not url:
        sys.exit(f"stock_fab_app: set {URL_ENV}")
    return url


# --- stock Flask-AppBuilder --------------------------------------------------------------------------------

def _fab_models():
    from flask_appbuilder import Model

    class StockDivision(Model):
        __tablename__ = "divisions"
        id = mapped_column(Integer, primary_key=True)
        tenant_id = mapped_column(Integer)
        code = mapped_column(String(32))
        name_th = mapped_column(String(200))

        def __repr__(self):
            return self.name_th

    class StockServiceType(Model):
        __tablename__ = "service_types"
        id = mapped_column(Integer, primary_key=True)
        tenant_id = mapped_column(Integer)
        code = mapped_column(String(48))
        name_th = mapped_column(String(200))

        def __repr__(self):
            return self.name_th

    class StockRequest(Model):
        __tablename__ = "service_requests"
        id = mapped_column(Integer, primary_key=True)
        tenant_id = mapped_column(Integer)
        service_type_id = mapped_column(Integer, ForeignKey("service_types.id"))
        service_type = relationship(StockServiceType)
        division_id = mapped_column(Integer, ForeignKey("divisions.id"))
        division = relationship(StockDivision)
        title = mapped_column(String(300))
        data = mapped_column(JSON)
        status = mapped_column(String(32))
        fee_total = mapped_column(Numeric(12, 2))
        due_on = mapped_column(Date)
        created_at = mapped_column(DateTime)

        def __repr__(self):
            return self.title

    return StockDivision, StockServiceType, StockRequest


def bench_tenant() -> int:
    try:
        return int(request.headers.get("X-Bench-Tenant") or request.args.get("tenant") or 0)
    except ValueError:
        return 0


def create_app() -> Flask:
    from flask_appbuilder import AppBuilder, ModelRestApi, ModelView
    from flask_appbuilder.models.sqla.base import SQLA
    from flask_appbuilder.models.sqla.filters import FilterEqualFunction
    from flask_appbuilder.models.sqla.interface import SQLAInterface
    from flask_appbuilder import Model

    app = Flask(__name__)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=_url(), SECRET_KEY=SECRET, SQLALCHEMY_TRACK_MODIFICATIONS=False,
        AUTH_ROLE_ADMIN="StockBenchAdmin", AUTH_ROLE_PUBLIC="StockBenchPublic", FAB_UPDATE_PERMS=True,
        WTF_CSRF_ENABLED=True,
    )
    db = SQLA(model_class=Model)
    db.init_app(app)
    _StockDivision, _StockServiceType, StockRequest = _fab_models()

    class StockRequestView(ModelView):
        datamodel = SQLAInterface(StockRequest)
        base_filters = [["tenant_id", FilterEqualFunction, bench_tenant]]
        base_order = ("created_at", "desc")
        page_size = 25  # the same page as ours
        list_columns = ["id", "title", "service_type", "division", "status", "due_on", "fee_total", "created_at"]
        show_columns = ["id", "title", "service_type", "division", "status", "due_on", "fee_total", "created_at",
                        "data"]

    class StockRequestApi(ModelRestApi):
        resource_name = "stock-request"
        allow_browser_login = True  # the same session cookie as the list page
        datamodel = SQLAInterface(StockRequest)
        base_filters = [["tenant_id", FilterEqualFunction, bench_tenant]]
        base_order = ("created_at", "desc")
        page_size = 25
        list_columns = ["id", "title", "service_type.code", "division.code", "status", "fee_total", "created_at",
                        "data"]

    with app.app_context():
        appbuilder = AppBuilder(app, db.session)
        appbuilder.add_view(StockRequestView, "Requests", category="Stock")
        appbuilder.add_api(StockRequestApi)
    return app


# --- plain Flask + SQLAlchemy ------------------------------------------------------------------------------

class _Base(DeclarativeBase):
    pass


class PlainDivision(_Base):
    __tablename__ = "divisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32))


class PlainServiceType(_Base):
    __tablename__ = "service_types"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(48))


class PlainVersion(_Base):
    __tablename__ = "service_type_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class PlainRequest(_Base):
    __tablename__ = "service_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer)
    service_type_id: Mapped[int] = mapped_column(ForeignKey("service_types.id"))
    service_type: Mapped[PlainServiceType] = relationship(lazy="joined")
    version_id: Mapped[int] = mapped_column(ForeignKey("service_type_versions.id"))
    version: Mapped[PlainVersion] = relationship(lazy="joined")
    division_id: Mapped[int] = mapped_column(ForeignKey("divisions.id"))
    division: Mapped[PlainDivision] = relationship(lazy="joined")
    title: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(32))
    fee_total: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    created_at: Mapped[datetime] = mapped_column(DateTime)


def create_plain_app() -> Flask:
    app = Flask(__name__)
    engine = create_engine(_url(), pool_pre_ping=True)

    @app.get("/plain/requests")
    def plain_requests():
        tenant = bench_tenant()
        page = max(int(request.args.get("page", 0)), 0)
        size = min(max(int(request.args.get("page_size", 25)), 1), 100)
        with Session(engine) as session:
            where = PlainRequest.tenant_id == tenant
            count = session.scalar(select(func.count()).select_from(PlainRequest).where(where))
            rows = session.scalars(
                select(PlainRequest).options(joinedload(PlainRequest.service_type), joinedload(PlainRequest.version),
                                             joinedload(PlainRequest.division))
                .where(where).order_by(PlainRequest.created_at.desc(), PlainRequest.id.desc())
                .offset(page * size).limit(size)).all()
            result = [{
                "id": r.id, "service_type": r.service_type.code, "version": r.version.version, "status": r.status,
                "division": r.division.code, "title": r.title, "data": r.data,
                "fee_total": None if r.fee_total is None else f"{r.fee_total:.2f}",
                "created_at": r.created_at.isoformat(),
            } for r in rows]
        return jsonify(count=count, result=result)

    return app


def create_user(username: str, password: str) -> None:
    """A stock FAB admin (FAB's own AUTH_ROLE_ADMIN gets every permission of the stock views)."""
    app = create_app()
    with app.app_context():
        sm = app.appbuilder.sm
        if sm.find_user(username=username) is None:
            role = sm.find_role(app.config["AUTH_ROLE_ADMIN"])
            if not sm.add_user(username, "Stock", "Bench", f"{username}@stock.example.org", role, password):
                sys.exit("stock_fab_app: could not add the user")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "create-user":
        create_user(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
