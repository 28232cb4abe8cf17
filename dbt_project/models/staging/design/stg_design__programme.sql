with

source as (
    select * from {{ source('design', 'programme') }}
),

renamed as (
    select
        design_file,
        baseline_date,
        loaded_at
    from source
)

select * from renamed
