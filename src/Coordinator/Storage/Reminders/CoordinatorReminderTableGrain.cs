using Orleans.Concurrency;
using Plateau.Cluster.Reminders;

namespace Plateau.Coordinator.Storage.Reminders;

/// <summary>The coordinator's <see cref="FileReminderTable"/> for the worker silos of a Localhost cluster. Reentrant:
/// the table orders the changes itself.</summary>
[Reentrant]
public sealed class CoordinatorReminderTableGrain(IReminderTable table) : Grain, ICoordinatorReminderTableGrain
{
    public Task<ReminderTableData> ReadRows(GrainId grainId) => table.ReadRows(grainId);

    public Task<ReminderTableData> ReadRows(uint beginHash, uint endHash) => table.ReadRows(beginHash, endHash);

    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) => table.ReadRow(grainId, reminderName);

    public Task<string?> UpsertRow(ReminderEntry entry) => table.UpsertRow(entry);

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => table.RemoveRow(grainId, reminderName, eTag);

    public Task TestOnlyClearTable() => table.TestOnlyClearTable();
}
