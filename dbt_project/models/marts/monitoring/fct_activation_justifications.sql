{{
    config(
        materialized='incremental',
        unique_key='activation_request_id',
        incremental_strategy='delete+insert',
    )
}}
-- A justification quality score per activation request, 0 to 100, with the rubric of docs/metrics.md: start at
-- 100 and take off for an empty or very short text, generic words only, the same text used by several people,
-- and a missing ticket reference where the role's tier requires a ticket.
-- Incremental: a run scores the requests fct_activation_requests rebuilt since this table was last built, and
-- restates the stored rows whose "reused across users" flag those new requests change (a text crossing three
-- users flags every earlier use of it too).
-- The requests and their texts are read by several steps below; not materialized, each reads the table again, which
-- is cheaper than DuckDB's copy of 10M rows for them to share (it spilled at 10M requests).
with

requests as not materialized (
    select * from {{ ref('fct_activation_requests') }}
    {% if is_incremental() %}
        where {{ refreshed_since_last_build('refreshed_at') }}
    {% endif %}
),

role_tiers as (
    select * from {{ ref('int_role_tiers_resolved') }}
),

requirements as (
    select * from {{ ref('stg_design__tier_requirements') }}
),

generic_words as (
    select * from {{ ref('generic_justification_words') }}
),

-- The rubric's checks of the text itself, once per distinct text: texts recur (templates, copied tickets), and
-- the regular expressions per request were a third of this model's time at 10M requests.
texts as (
    select
        justification,
        trim(regexp_replace(lower(justification), '[^a-z0-9/]+', ' ', 'g')) as normalized_text,
        length(trim(justification)) < 10 as is_empty_or_short,
        {{ has_ticket_reference('justification') }} as has_ticket_reference
    from (select distinct coalesce(requests.justification, '') as justification from requests) as distinct_texts
),

normalized as not materialized (
    select
        requests.activation_request_id,
        requests.tenant_id,
        requests.request_id,
        requests.principal_id,
        requests.role_definition_id,
        texts.justification,
        texts.normalized_text,
        texts.is_empty_or_short,
        texts.has_ticket_reference
    from requests
    inner join texts
        on coalesce(requests.justification, '') = texts.justification
),

-- Who used each text: the rows being scored, and the stored rows of the same texts.
text_uses as (
    select
        tenant_id,
        normalized_text,
        principal_id
    from normalized
    {% if is_incremental() %}
        union all
        select
            stored_rows.tenant_id,
            stored_rows.normalized_text,
            stored_rows.principal_id
        from {{ this }} as stored_rows
        where
            (stored_rows.tenant_id, stored_rows.normalized_text) in (
                select
                    normalized.tenant_id,
                    normalized.normalized_text
                from normalized
            )
            and stored_rows.activation_request_id not in (select normalized.activation_request_id from normalized)
    {% endif %}
),

reuse as (
    select
        tenant_id,
        normalized_text,
        count(distinct principal_id) as principals_using_text
    from text_uses
    where normalized_text != ''
    group by tenant_id, normalized_text
),

-- Words of each text that are not generic; a text with none says nothing about the task.
specific_words as (
    select
        distinct_texts.normalized_text,
        count(*) filter (where generic_words.word is null) as specific_word_count
    from (select distinct texts.normalized_text from texts) as distinct_texts
    cross join unnest(string_split(distinct_texts.normalized_text, ' ')) as words (word)
    left join generic_words
        on words.word = generic_words.word
    where words.word != ''
    group by distinct_texts.normalized_text
),

flagged as (
    select
        normalized.activation_request_id,
        normalized.tenant_id,
        normalized.request_id,
        normalized.principal_id,
        normalized.justification,
        normalized.normalized_text,
        normalized.is_empty_or_short,
        coalesce(specific_words.specific_word_count, 0) = 0 as is_generic,
        coalesce(reuse.principals_using_text, 0) >= 3 as is_reused_across_users,
        coalesce(requirements.is_ticket_required, false) and not normalized.has_ticket_reference as is_ticket_missing
    from normalized
    left join specific_words
        on normalized.normalized_text = specific_words.normalized_text
    left join reuse
        on
            normalized.tenant_id = reuse.tenant_id
            and normalized.normalized_text = reuse.normalized_text
    left join role_tiers
        on
            normalized.tenant_id = role_tiers.tenant_id
            and normalized.role_definition_id = role_tiers.role_definition_id
    left join requirements
        on role_tiers.tier = requirements.tier
    {% if is_incremental() %}
        -- Stored rows whose text the new requests pushed over (or, after a refold, back under) the reuse limit.
        union all
        select
            stored_rows.activation_request_id,
            stored_rows.tenant_id,
            stored_rows.request_id,
            stored_rows.principal_id,
            stored_rows.justification,
            stored_rows.normalized_text,
            stored_rows.is_empty_or_short,
            stored_rows.is_generic,
            reuse.principals_using_text >= 3 as is_reused_across_users,
            stored_rows.is_ticket_missing
        from {{ this }} as stored_rows
        inner join reuse
            on
                stored_rows.tenant_id = reuse.tenant_id
                and stored_rows.normalized_text = reuse.normalized_text
        where
            stored_rows.is_reused_across_users != (reuse.principals_using_text >= 3)
            and stored_rows.activation_request_id not in (select normalized.activation_request_id from normalized)
    {% endif %}
),

scored as (
    select
        *,
        greatest(
            0,
            100
            - case when is_empty_or_short then 60 else 0 end
            - case when is_generic then 30 else 0 end
            - case when is_reused_across_users then 20 else 0 end
            - case when is_ticket_missing then 30 else 0 end
        ) as justification_score
    from flagged
),

final as (
    select
        activation_request_id,
        tenant_id,
        request_id,
        principal_id,
        justification,
        normalized_text,
        justification_score,
        case
            when justification_score >= 70 then 'good'
            when justification_score >= 40 then 'weak'
            else 'poor'
        end as justification_quality,
        is_empty_or_short,
        is_generic,
        is_reused_across_users,
        is_ticket_missing,
        {{ refreshed_at() }} as refreshed_at
    from scored
)

select * from final
