-- One row per wave and department: when the department's privileged access moves to eligible.
with

source as (
    select * from {{ source('design', 'rollout_waves') }}
),

renamed as (
    select
        wave_name,
        starts_on,
        department
    from source
)

select * from renamed
