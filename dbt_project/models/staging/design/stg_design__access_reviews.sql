-- One row: how recently the design wants every privileged role reviewed (default from pim-rules.md rule 15).
with

source as (
    select * from {{ source('design', 'access_reviews') }}
),

renamed as (
    select max_days_since_review
    from source
)

select * from renamed
