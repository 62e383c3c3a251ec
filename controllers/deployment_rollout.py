"""The strategies of the deployment controller: scaling, RollingUpdate and
Recreate (kube's sync.go, rolling.go and recreate.go).

``Rollout`` is a part of ``controllers.deployment.Sync``: its methods use the
sync's writes (``scale_rs``, ``new_and_old``, ``sync_rollout_status``,
``cleanup``) on the sync's own copies of the ReplicaSets.
"""

from __future__ import annotations

from controllers import deployment_util as du


def controller_ref(obj: dict) -> dict | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def some(rs: dict | None) -> list[dict]:
    return [rs] if rs is not None else []


class Rollout:
    # Scaling (a resized or paused Deployment).

    def is_scaling_event(self, rs_list: list[dict]) -> bool:
        desired = du.spec_replicas(self.d)
        for rs in du.active(rs_list):
            noted = du.int_annotation(rs, du.DESIRED_REPLICAS)
            if noted is not None and noted != desired:
                return True
        return False

    async def scale_sync(self, rs_list: list[dict]) -> None:
        """sync: scale without rolling out, then write the status."""
        new_rs, old_rss = await self.new_and_old(rs_list, create=False)
        await self.scale(new_rs, old_rss)
        if self.d["spec"].get("paused"):
            await self.cleanup(old_rss)
        await self.sync_status(old_rss + some(new_rs), new_rs)

    async def scale(self, new_rs: dict | None, old_rss: list[dict]) -> None:
        desired = du.spec_replicas(self.d)
        only = _active_or_latest(new_rs, old_rss)
        if only is not None:
            await self.scale_rs(only, desired)
            return
        if du.is_saturated(self.d, new_rs):
            for rs in du.active(old_rss):
                await self.scale_rs(rs, 0)
            return
        if du.is_rolling_update(self.d):
            await self._scale_proportionally(du.active(old_rss + some(new_rs)))

    async def _scale_proportionally(self, all_rss: list[dict]) -> None:
        desired = du.spec_replicas(self.d)
        allowed = desired + du.max_surge(self.d) if desired > 0 else 0
        to_add = allowed - du.sum_spec(all_rss)
        operation = ""
        if to_add > 0:
            all_rss, operation = du.by_size_newer(all_rss), "up"
        elif to_add < 0:
            all_rss, operation = du.by_size_older(all_rss), "down"
        sizes, added = [], 0
        for rs in all_rss:
            share = du.proportion(rs, self.d, to_add, added) if to_add else 0
            sizes.append(du.spec_replicas(rs) + share)
            added += share
        if all_rss and to_add:
            # The leftover of the rounding goes to the largest ReplicaSet.
            sizes[0] = max(sizes[0] + to_add - added, 0)
        for rs, size in zip(all_rss, sizes):
            await self.scale_rs(rs, size, operation)

    # RollingUpdate (rolling.go).

    async def rollout_rolling(self, rs_list: list[dict]) -> None:
        new_rs, old_rss = await self.new_and_old(rs_list, create=True)
        all_rss = old_rss + [new_rs]
        if await self.reconcile_new_rs(all_rss, new_rs):
            await self.sync_rollout_status(all_rss, new_rs)
            return
        if await self.reconcile_old_rss(all_rss, du.active(old_rss), new_rs):
            await self.sync_rollout_status(all_rss, new_rs)
            return
        if du.deployment_complete(self.d, self.status):
            await self.cleanup(old_rss)
        await self.sync_rollout_status(all_rss, new_rs)

    async def reconcile_new_rs(self, all_rss: list[dict], new_rs: dict) -> bool:
        desired = du.spec_replicas(self.d)
        current = du.spec_replicas(new_rs)
        if current == desired:
            return False
        if current > desired:
            return await self.scale_rs(new_rs, desired)
        return await self.scale_rs(new_rs, du.new_rs_new_replicas(
            self.d, all_rss, new_rs))

    async def reconcile_old_rss(self, all_rss: list[dict], old_rss: list[dict],
                                new_rs: dict) -> bool:
        if du.sum_spec(old_rss) == 0:
            return False
        min_available = du.spec_replicas(self.d) - du.max_unavailable(self.d)
        new_unavailable = du.spec_replicas(new_rs) - du.status_count(
            new_rs, "availableReplicas")
        max_scaled_down = du.sum_spec(all_rss) - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        # Unhealthy old pods go first: removing them costs no availability.
        cleaned = await self._cleanup_unhealthy(old_rss, max_scaled_down)
        scaled = await self._scale_down_old(old_rss + [new_rs], old_rss)
        return cleaned + scaled > 0

    async def _cleanup_unhealthy(self, old_rss: list[dict], limit: int) -> int:
        total = 0
        for rs in du.by_creation(old_rss):
            if total >= limit:
                break
            replicas = du.spec_replicas(rs)
            available = du.status_count(rs, "availableReplicas")
            if replicas == 0 or available >= replicas:
                continue
            count = min(limit - total, replicas - available)
            await self.scale_rs(rs, replicas - count)
            total += count
        return total

    async def _scale_down_old(self, all_rss: list[dict], old_rss: list[dict]) -> int:
        min_available = du.spec_replicas(self.d) - du.max_unavailable(self.d)
        # A ReplicaSet just scaled down may still report the pods it is
        # deleting as available; counting them would let two scale-downs in a
        # row take the deployment below its minimum, so no more than its
        # spec.replicas count. kube sums the status alone and relies on its
        # pods terminating gracefully, which unbound pods here do not.
        available = sum(min(du.status_count(rs, "availableReplicas"),
                            du.spec_replicas(rs)) for rs in all_rss)
        if available <= min_available:
            return 0
        limit, total = available - min_available, 0
        for rs in du.by_creation(old_rss):
            if total >= limit:
                break
            replicas = du.spec_replicas(rs)
            if replicas == 0:
                continue
            count = min(replicas, limit - total)
            await self.scale_rs(rs, replicas - count)
            total += count
        return total

    # Recreate (recreate.go).

    async def rollout_recreate(self, rs_list: list[dict]) -> None:
        new_rs, old_rss = await self.new_and_old(rs_list, create=False)
        scaled_down = False
        for rs in du.active(old_rss):
            scaled_down = await self.scale_rs(rs, 0) or scaled_down
        if scaled_down or self.old_pods_running(new_rs, old_rss):
            await self.sync_rollout_status(old_rss + some(new_rs), new_rs)
            return
        if new_rs is None:
            new_rs, old_rss = await self.new_and_old(rs_list, create=True)
        await self.scale_rs(new_rs, du.spec_replicas(self.d))
        if du.deployment_complete(self.d, self.status):
            await self.cleanup(old_rss)
        await self.sync_rollout_status(old_rss + [new_rs], new_rs)

    def old_pods_running(self, new_rs: dict | None, old_rss: list[dict]) -> bool:
        if du.sum_status(old_rss, "replicas") > 0:
            return True
        old_uids = {rs["metadata"]["uid"] for rs in old_rss}
        if new_rs is not None:
            old_uids.discard(new_rs["metadata"]["uid"])
        for pod in self.controller.pods.list(self.namespace):
            ref = controller_ref(pod)
            if ref is None or ref.get("uid") not in old_uids:
                continue
            if (pod.get("status") or {}).get("phase") not in ("Failed", "Succeeded"):
                return True
        return False


def _active_or_latest(new_rs: dict | None, old_rss: list[dict]) -> dict | None:
    """FindActiveOrLatest: the one ReplicaSet with pods, or if none has any,
    the newest; None when several have pods."""
    if new_rs is None and not old_rss:
        return None
    everything = some(new_rs) + old_rss
    with_pods = du.active(everything)
    if not with_pods:
        return new_rs or du.by_creation(old_rss)[-1]
    return with_pods[0] if len(with_pods) == 1 else None
