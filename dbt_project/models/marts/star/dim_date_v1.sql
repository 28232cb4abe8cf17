-- The calendar the star's facts are dated by: every day of every whole calendar year from the earliest fact or the
-- rollout baseline to the evaluation instant (as_of), with no gaps, as BI date tables need. ISO weeks start on
-- Monday (week 1 holds the year's first Thursday); the fiscal year starts on the first day of the month the dbt
-- var fiscal_year_start_month names (default 7, July), is named after the calendar year it ends in, and its
-- week 1 starts on its first day, each week 7 days long.
{%- set fiscal_start_month = var('fiscal_year_start_month', 7) | int %}
with

requests as (
    select * from {{ ref('fct_activation_requests') }}
),

access_daily as (
    select * from {{ ref('fct_privileged_access_daily') }}
),

alerts as (
    select * from {{ ref('fct_alerts') }}
),

programme as (
    select * from {{ ref('stg_design__programme') }}
),

fact_days as (
    select {{ snapshot_day('requested_at') }} as calendar_day from requests
    union all
    select snapshot_date as calendar_day from access_daily
    union all
    select {{ snapshot_day('first_seen_at') }} as calendar_day from alerts
    union all
    select baseline_date as calendar_day from programme
    union all
    select {{ snapshot_day(as_of()) }} as calendar_day
),

bounds as (
    select
        make_date(year(min(calendar_day)), 1, 1) as first_day,
        make_date(year(max(calendar_day)), 12, 31) as last_day
    from fact_days
),

days as (
    select cast(unnest(generate_series(first_day, last_day, interval 1 day)) as date) as calendar_day
    from bounds
),

fiscal as (
    select
        calendar_day,
        -- The first day of the fiscal year the day falls in.
        case
            when month(calendar_day) >= {{ fiscal_start_month }}
                then make_date(year(calendar_day), {{ fiscal_start_month }}, 1)
            else make_date(year(calendar_day) - 1, {{ fiscal_start_month }}, 1)
        end as fiscal_year_start
    from days
),

final as (
    select
        {{ star_date_key('calendar_day') }} as date_key,
        calendar_day as calendar_date,
        cast(year(calendar_day) as integer) as calendar_year,
        cast(quarter(calendar_day) as integer) as calendar_quarter,
        cast(month(calendar_day) as integer) as month_number,
        monthname(calendar_day) as month_name,
        strftime(calendar_day, '%Y-%m') as calendar_year_month,
        cast(dayofmonth(calendar_day) as integer) as day_of_month,
        cast(isodow(calendar_day) as integer) as iso_day_of_week,
        dayname(calendar_day) as day_name,
        isodow(calendar_day) >= 6 as is_weekend,
        cast(isoyear(calendar_day) as integer) as iso_year,
        cast(weekofyear(calendar_day) as integer) as iso_week,
        strftime(calendar_day, '%G-W%V') as iso_year_week,
        cast(year(fiscal_year_start + interval 1 year - interval 1 day) as integer) as fiscal_year,
        cast(floor(datediff('month', fiscal_year_start, calendar_day) / 3) + 1 as integer) as fiscal_quarter,
        cast(floor(datediff('day', fiscal_year_start, calendar_day) / 7) + 1 as integer) as fiscal_week,
        fiscal_year_start as fiscal_year_start_date
    from fiscal
)

select * from final
