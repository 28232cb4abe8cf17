-- Records the extractor could not read as records; the id is read from the raw text when it has one.
with

source as (
    select * from {{ source('raw', 'dead_letter') }}
),

renamed as (
    select
        tenant_id,
        load_id,
        collection,
        json_extract_string(try_cast(raw_text as json), '$.id') as record_id,
        page_number,
        source_path,
        error as reason,
        raw_text,
        loaded_at as quarantined_at
    from source
)

select * from renamed
