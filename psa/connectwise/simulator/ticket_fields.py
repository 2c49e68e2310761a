"""The ticket properties of the ConnectWise 2025.1 schema that a condition may name.

POST-only properties (``initialDescription``, ``processNotifications``...) are left out:
ConnectWise does not store them, so conditions on them are refused like unknown names.
"""

from __future__ import annotations

_NAMES = """
    id summary recordType board status workRole workType company site siteName
    addressLine1 addressLine2 city stateIdentifier zip country contact contactName
    contactPhoneNumber contactPhoneExtension contactEmailAddress type subType item team
    owner priority serviceLocation source requiredDate budgetHours opportunity agreement
    agreementType severity impact externalXRef poNumber knowledgeBaseCategoryId
    knowledgeBaseSubCategoryId allowAllClientsPortalView customerUpdatedFlag
    automaticEmailContactFlag automaticEmailResourceFlag automaticEmailCcFlag
    automaticEmailCc closedDate closedBy closedFlag actualHours approved
    estimatedExpenseCost estimatedExpenseRevenue estimatedProductCost
    estimatedProductRevenue estimatedTimeCost estimatedTimeRevenue billingMethod
    billingAmount hourlyRate subBillingMethod subBillingAmount subDateAccepted
    dateResolved dateResplan dateResponded resolveMinutes resPlanMinutes respondMinutes
    isInSla knowledgeBaseLinkId resources parentTicketId hasChildTicket
    hasMergedChildTicketFlag knowledgeBaseLinkType billTime billExpenses billProducts
    predecessorType predecessorId predecessorClosedFlag lagDays lagNonworkingDaysFlag
    estimatedStartDate duration location department mobileGuid sla slaStatus
    requestForChangeFlag currency mergedParentTicket integratorTags _info
    escalationStartDateUTC escalationLevel minutesBeforeWaiting respondedSkippedMinutes
    resplanSkippedMinutes respondedHours respondedBy resplanHours resplanBy
    resolutionHours resolvedBy minutesWaiting customFields
"""
TICKET_FIELDS = frozenset(_NAMES.split())
_INFO = frozenset({"lastupdated", "dateentered", "enteredby", "updatedby"})
_CANONICAL = {name.casefold(): name for name in TICKET_FIELDS}
_FOLDED = frozenset(_CANONICAL) | _INFO


def is_ticket_field(path: tuple[str, ...]) -> bool:
    """Whether a condition may name ``path`` on tickets (only the first part is checked)."""
    return path[0].casefold() in _FOLDED


def ticket_keys(names: set[str]) -> tuple[str, ...]:
    """The ticket JSON keys that condition fields ``names`` read (``_info`` for
    ``lastUpdated`` and friends), in a stable order."""
    keys = {
        "_info" if name.casefold() in _INFO else _CANONICAL.get(name.casefold(), name)
        for name in names
    }
    return tuple(sorted(keys))
