namespace Plateau.Cluster.Reminders;

/// <summary>
/// The coordinator's reminder table (a file in its state directory) as a grain, for the other silos of a
/// Localhost cluster: Orleans asks the reminder service of the silo that owns a grain's hash, which may be a
/// worker silo. Only the coordinator has the implementation, so the grain always activates there.
/// </summary>
public interface ICoordinatorReminderTableGrain : IGrainWithIntegerKey
{
    Task<ReminderTableData> ReadRows(GrainId grainId);

    Task<ReminderTableData> ReadRows(uint beginHash, uint endHash);

    Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName);

    Task<string?> UpsertRow(ReminderEntry entry);

    Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag);

    Task TestOnlyClearTable();
}
