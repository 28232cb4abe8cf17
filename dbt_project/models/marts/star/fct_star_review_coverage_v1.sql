-- The access review coverage of every privileged role (fct_access_review_coverage) keyed to the star's role
-- dimension: whether a review covers it, whether its last review is current, and how many days ago it ended.
with

coverage as (
    select * from {{ ref('fct_access_review_coverage') }}
),

tenants as (
    select * from {{ ref('dim_tenant') }}
),

final as (
    select
        coverage.access_review_coverage_id,
        tenants.tenant_key,
        {{ star_key(['coverage.tenant_id', 'coverage.role_definition_id']) }} as role_key,
        coverage.tenant_id,
        coverage.review_status,
        coverage.has_privileged_access,
        coverage.is_reviewed,
        coverage.review_status = 'current' as is_review_current,
        coverage.has_privileged_access and not coverage.is_reviewed as is_held_and_unreviewed,
        coverage.days_since_last_review
    from coverage
    inner join tenants
        on coverage.tenant_id = tenants.tenant_id
)

select * from final
