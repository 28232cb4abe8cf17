-- What each tier requires of a role's PIM policy; a null column means the design sets no requirement.
with

source as (
    select * from {{ source('design', 'tier_requirements') }}
),

renamed as (
    select
        tier,
        tier_rank,
        is_approval_required,
        min_approvers,
        is_mfa_required_on_activation,
        is_justification_required,
        is_ticket_required,
        max_activation_seconds,
        is_permanent_eligibility_allowed,
        min_activation_notification_recipients
    from source
)

select * from renamed
