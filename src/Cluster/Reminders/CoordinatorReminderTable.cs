namespace Plateau.Cluster.Reminders;

/// <summary>
/// The reminder table of a worker silo in a Localhost cluster: every call goes to the coordinator's table
/// (<see cref="ICoordinatorReminderTableGrain"/>). Grain calls work from the application-services stage on;
/// before it a range read answers empty (the reminder service reads its range again later), as Orleans'
/// in-memory table does, and other calls fail.
/// </summary>
public sealed class CoordinatorReminderTable(IGrainFactory grains) : IReminderTable, ILifecycleParticipant<ISiloLifecycle>
{
    private volatile bool _available;

    private ICoordinatorReminderTableGrain Table => grains.GetGrain<ICoordinatorReminderTableGrain>(0);

    public Task<ReminderTableData> ReadRows(GrainId grainId) => Available().ReadRows(grainId);

    public Task<ReminderTableData> ReadRows(uint begin, uint end) =>
        _available ? Table.ReadRows(begin, end) : Task.FromResult(new ReminderTableData());

    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) => Available().ReadRow(grainId, reminderName);

    public Task<string?> UpsertRow(ReminderEntry entry) => Available().UpsertRow(entry);

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => Available().RemoveRow(grainId, reminderName, eTag);

    public Task TestOnlyClearTable() => Available().TestOnlyClearTable();

    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(CoordinatorReminderTable), ServiceLifecycleStage.ApplicationServices,
            _ =>
            {
                _available = true;
                return Task.CompletedTask;
            },
            _ =>
            {
                _available = false;
                return Task.CompletedTask;
            });
    }

    private ICoordinatorReminderTableGrain Available() =>
        _available ? Table : throw new InvalidOperationException("the coordinator's reminder table cannot be reached before this silo has started");
}
