"""`OrgPlanChanged`: the EventBridge event that reports an org's new plan.

The platform's billing service publishes it, with source `platform.billing` by default (the
template's `PlanEventSource` parameter) and this detail:

    {"org_id": "org_123", "plan": "enterprise"}

`plan` is the plan's id as the dashboard's tokens carry it in `org_plan`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from external_providers.resolution import ORG_ID_PATTERN
from external_providers.stores.plan_store import OrgPlan


class OrgPlanChangedDetail(BaseModel):
    org_id: str = Field(pattern=ORG_ID_PATTERN)
    plan: str = Field(min_length=1, max_length=64)


class OrgPlanChanged(BaseModel):
    """The event as EventBridge delivers it, with the envelope fields this service reads.

    `time` orders changes that arrive out of order. Other envelope fields (`account`,
    `region`, ...) are ignored, so a delivery that lacks one is still recorded.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    id: str = Field(min_length=1)
    source: str
    detail_type: Literal["OrgPlanChanged"] = Field(alias="detail-type")
    time: AwareDatetime
    detail: OrgPlanChangedDetail

    def org_plan(self) -> OrgPlan:
        return OrgPlan(org_id=self.detail.org_id, plan=self.detail.plan, changed_at=self.time)
