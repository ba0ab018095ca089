using Orleans.Concurrency;
using Plateau.Cluster.Reminders;

namespace Plateau.Coordinator.Storage.Reminders;

/// <summary>The coordinator's <see cref="FileReminderTable"/> for the worker silos of a Localhost cluster. Reentrant:
/// the table orders the changes itself.</summary>
[Reentrant]
public sealed class CoordinatorReminderTableGrain(IReminderTable table) : Grain, ICoordinatorReminderTableGrain
{
    /// <summary>
    /// Refuses to activate on a silo whose reminder table is the one that forwards to this grain (a silo that hosts
    /// the grain class but not the coordinator's file): every call would call itself again, without end, until its
    /// messages expire — a storm of grain calls that holds the silo's CPU for minutes. Worker hosts leave the class
    /// out (<c>WorkerHostExtensions.HostOnlyWorkerGrains</c>); this catches any other host that does not.
    /// </summary>
    public override Task OnActivateAsync(CancellationToken cancellationToken) =>
        table is CoordinatorReminderTable
            ? throw new InvalidOperationException(
                $"the coordinator's reminder table grain cannot run on silo {RuntimeIdentity}: this silo's reminder table forwards to the grain itself; only the coordinator silo (AddFileReminderTable) may host {nameof(CoordinatorReminderTableGrain)}")
            : Task.CompletedTask;

    public Task<ReminderTableData> ReadRows(GrainId grainId) => table.ReadRows(grainId);

    public Task<ReminderTableData> ReadRows(uint beginHash, uint endHash) => table.ReadRows(beginHash, endHash);

    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) => table.ReadRow(grainId, reminderName);

    public Task<string?> UpsertRow(ReminderEntry entry) => table.UpsertRow(entry);

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => table.RemoveRow(grainId, reminderName, eTag);

    public Task TestOnlyClearTable() => table.TestOnlyClearTable();
}
