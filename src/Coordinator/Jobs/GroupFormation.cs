using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Specs;

namespace Plateau.Coordinator.Jobs;

/// <summary>
/// Chooses the group from the registered workers, deterministically: workers ordered by id, the most
/// workers (≤ max) whose rank count fits the batch rule, ranks numbered worker by worker and device by
/// device in the order each worker listed them.
/// </summary>
public static class GroupFormation
{
    public static FormationResult Plan(JobSpec spec, IReadOnlyCollection<WorkerRegistration> registrations)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(registrations);
        var workers = spec.Workers;
        var devicesPerWorker = workers.DevicesPerWorker;
        var ordered = registrations.OrderBy(r => r.WorkerId, StringComparer.Ordinal).ToList();
        if (ordered.Count < workers.Min)
        {
            return FormationResult.Fail($"{ordered.Count} of {workers.Min} required workers joined");
        }

        if (spec.Batch.Global is null && spec.Batch.PerDevice is null)
        {
            return FormationResult.Fail("spec.batch gives neither global nor perDevice");
        }

        for (var count = Math.Min(ordered.Count, workers.Max); count >= workers.Min; count--)
        {
            var ranks = count * devicesPerWorker;
            if (BatchSplit.For(spec.Batch, ranks) is not { } split)
            {
                continue;
            }

            var (globalBatch, perRank) = split;

            var chosen = ordered.Take(count).ToList();
            var members = new List<PeerInfo>(ranks);
            foreach (var worker in chosen)
            {
                for (var local = 0; local < devicesPerWorker; local++)
                {
                    members.Add(new PeerInfo(members.Count, worker.WorkerId, worker.Devices[local].DeviceId, worker.Host, worker.DataPlaneAddress, local));
                }
            }

            return new FormationResult(members, chosen, ordered.Skip(count).ToList(), globalBatch, perRank, null);
        }

        var sizes = string.Join(", ", Enumerable.Range(workers.Min, Math.Min(ordered.Count, workers.Max) - workers.Min + 1).Select(n => n * devicesPerWorker));
        return FormationResult.Fail(
            $"{ordered.Count} workers joined but no world size in [{sizes}] fits the batch (global {spec.Batch.Global?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}, perDevice {spec.Batch.PerDevice?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"})");
    }
}
