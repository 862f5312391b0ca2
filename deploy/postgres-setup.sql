-- ท้องถิ่นดิจิทัล: the database and its three roles. Run once, as a PostgreSQL superuser:
--
--   sudo -u postgres psql -v ON_ERROR_STOP=1 \
--        -v owner=thongthin_owner -v owner_password='...' \
--        -v runtime=thongthin_web -v runtime_password='...' \
--        -v platform=thongthin_platform -v dbname=thongthin \
--        -f deploy/postgres-setup.sql
--
-- owner    (LOGIN)            owns the database and every table; runs the migrations (DATABASE_OWNER_URL)
-- runtime  (LOGIN NOINHERIT)  what the app connects as (DATABASE_URL): owns nothing, so row-level security
--                             binds it; SELECT/INSERT/UPDATE/DELETE on tables, USAGE/SELECT on sequences
-- platform (NOLOGIN)          the audited platform path (DATABASE_PLATFORM_ROLE): the runtime role may become it
--                             only by switching (SET ROLE inside platform_scope()), never by inheriting
--
-- Then, as the owner: `flask db upgrade` (the tables) and `flask rls grant` (privileges on the tables that exist
-- now; the default privileges below cover the ones later migrations add).

\set ON_ERROR_STOP on

CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password';
CREATE ROLE :"runtime" LOGIN NOINHERIT PASSWORD :'runtime_password';
CREATE ROLE :"platform" NOLOGIN;
GRANT :"platform" TO :"runtime";

CREATE DATABASE :"dbname" OWNER :"owner" ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE :"dbname" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"dbname" TO :"runtime";

\connect :"dbname"

-- PostgreSQL 15 gives PUBLIC no CREATE on schema public; the owner makes the tables, nobody else
ALTER SCHEMA public OWNER TO :"owner";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"runtime", :"platform";

-- every table and sequence the owner creates from now on (the migrations)
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"runtime", :"platform";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"runtime", :"platform";
