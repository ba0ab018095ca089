using System.Security.Cryptography;
using Npgsql;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Jobs;
using Plateau.Coordinator.Jobs;
using static Plateau.Coordinator.Tests.Jobs.JobTestKit;

namespace Plateau.Coordinator.Tests.State;

/// <summary>The coordinator silo with membership and grain state in a real PostgreSQL database.</summary>
[Collection(OnePostgreSqlServer.Name)]
public sealed class PostgreSqlStateTests(PostgreSqlServer server)
{
    [Fact]
    public async Task ACoordinatorRestartedAgainstTheSameDatabaseFindsEveryJobItsStateAndItsCheckpoints()
    {
        var database = await server.CreateDatabaseAsync("restart");
        await using var cluster = new PostgreSqlCoordinator(database);
        await cluster.StartAsync();
        try
        {
            var waiting = NewJobId("waiting");
            await cluster.Grains.GetGrain<IJobGrain>(waiting).Submit(Spec());
            var running = NewJobId("running");
            var job = cluster.Grains.GetGrain<IJobGrain>(running);
            await job.Submit(Spec());
            await job.RegisterWorker(Worker($"{running}-b"));
            await job.RegisterWorker(Worker($"{running}-a"));
            await Checkpoint(cluster, job, epoch: 0, step: 5, [1, 2, 3]);
            await job.ReportEpoch(Report(1, 0, 0, 10, 60, 100));
            await job.ReportEpoch(Report(1, 1, 0, 10, 40, 100));
            await Checkpoint(cluster, job, epoch: 1, step: 10, [4, 5, 6, 7]);
            await job.Pause("coordinator upgrade");
            var cancelled = NewJobId("cancelled");
            await cluster.Grains.GetGrain<IJobGrain>(cancelled).Submit(Spec());
            await cluster.Grains.GetGrain<IJobGrain>(cancelled).Cancel("not needed");
            var ids = new[] { waiting, running, cancelled };
            var before = await Task.WhenAll(ids.Select(id => SummaryOf(cluster.Grains, id)));
            var checkpointsBefore = await job.GetCheckpoints();
            var eventsBefore = await job.GetEvents(0, 1000);

            await cluster.StopAsync();
            await cluster.StartAsync();

            var after = await Task.WhenAll(ids.Select(id => SummaryOf(cluster.Grains, id)));
            Assert.Equal(
                [(JobPhase.Rendezvous, (long?)null), (JobPhase.Paused, 10), (JobPhase.Cancelled, null)],
                after.Select(s => (s.Phase, s.LatestCheckpoint?.GlobalStep)));
            for (var i = 0; i < ids.Length; i++)
            {
                Assert.Equal(before[i].PhaseReason, after[i].PhaseReason);
                Assert.Equal(before[i].Transitions, after[i].Transitions);
                Assert.Equal(before[i].MetricsHistory, after[i].MetricsHistory);
                Assert.Equal(before[i].LrDecisions, after[i].LrDecisions);
            }

            job = cluster.Grains.GetGrain<IJobGrain>(running);
            Assert.Equal([5L, 10L], (await job.GetCheckpoints()).Select(c => c.GlobalStep));
            Assert.Equal(checkpointsBefore, await job.GetCheckpoints());
            // Compared as JSON: event details hold lists, which records compare by reference.
            Assert.Equal(System.Text.Json.JsonSerializer.Serialize(eventsBefore.Events), System.Text.Json.JsonSerializer.Serialize((await job.GetEvents(0, 1000)).Events));
            Assert.Equal(ids.Order(StringComparer.Ordinal), (await cluster.Grains.GetGrain<IJobCatalogGrain>(0).List()).Where(ids.Contains).Order(StringComparer.Ordinal));
            // The state is in PostgreSQL: the catalog and three jobs are rows.
            Assert.Equal(4L, await ScalarAsync<long>(database, $"SELECT count(*) FROM orleansstorage WHERE serviceid = '{cluster.ClusterId}'"));
        }
        finally
        {
            await cluster.StopAsync();
        }
    }

    [Fact]
    public async Task ARunningJobWakesWhenItsCoordinatorRestartsAndFindsItsSilentWorkersWithoutAnyoneAsking()
    {
        var database = await server.CreateDatabaseAsync("wakeup");
        // Workers that send no progress for 5 s are lost; these fake ones never send any.
        await using var cluster = new PostgreSqlCoordinator(database, workerLivenessTimeoutSeconds: 5);
        await cluster.StartAsync();
        var running = NewJobId("wake");
        try
        {
            var job = cluster.Grains.GetGrain<IJobGrain>(running);
            await job.Submit(Spec());
            await job.RegisterWorker(Worker($"{running}-b"));
            await job.RegisterWorker(Worker($"{running}-a"));
            Assert.Equal(JobPhase.Running, (await job.GetSummary())!.Phase);

            await cluster.StopAsync();
            await cluster.StartAsync();

            // Nothing has called the job since the restart; the silo's start-up woke it.
            var active = await cluster.Grains.GetGrain<IManagementGrain>(0).GetActiveGrains(GrainType.Create("job"));
            Assert.Contains(active, g => g.Key.ToString() == running);
            var failed = await Eventually(() => SummaryOf(cluster.Grains, running), s => s.Phase != JobPhase.Running, "the silent group given up", seconds: 30);
            Assert.Equal(JobPhase.Rendezvous, failed.Phase);
            Assert.Equal(1, failed.Restarts);
        }
        finally
        {
            await cluster.StopAsync();
        }
    }

    [Fact]
    public async Task ARunningJobHoldsOneReminderRowAndACancelledOrCompletedOneNone()
    {
        var database = await server.CreateDatabaseAsync("reminders");
        await using var cluster = new PostgreSqlCoordinator(database);
        await cluster.StartAsync();
        try
        {
            var running = NewJobId("running");
            var job = cluster.Grains.GetGrain<IJobGrain>(running);
            await job.Submit(Spec());
            await job.RegisterWorker(Worker($"{running}-b"));
            await job.RegisterWorker(Worker($"{running}-a"));
            var cancelled = NewJobId("cancelled");
            await cluster.Grains.GetGrain<IJobGrain>(cancelled).Submit(Spec());
            await cluster.Grains.GetGrain<IJobGrain>(cancelled).Cancel("not needed");
            var completed = NewJobId("completed");
            var short1 = cluster.Grains.GetGrain<IJobGrain>(completed);
            await short1.Submit(Spec(epochs: 1));
            await short1.RegisterWorker(Worker($"{completed}-b"));
            await short1.RegisterWorker(Worker($"{completed}-a"));
            await short1.ReportEpoch(Report(1, 0, 0, 10, 60, 100));
            await short1.ReportEpoch(Report(1, 1, 0, 10, 60, 100));

            Assert.Equal(
                [JobPhase.Running, JobPhase.Cancelled, JobPhase.Completed],
                (await Task.WhenAll(new[] { running, cancelled, completed }.Select(id => SummaryOf(cluster.Grains, id)))).Select(s => s.Phase));
            Assert.Equal([JobAliveReminder.Name], await RemindersAsync(database, cluster.ClusterId, running));
            Assert.Empty(await RemindersAsync(database, cluster.ClusterId, cancelled));
            Assert.Empty(await RemindersAsync(database, cluster.ClusterId, completed));

            // A restarted coordinator finds the reminder and keeps it: still one row.
            await cluster.StopAsync();
            await cluster.StartAsync();
            Assert.Equal(JobPhase.Running, (await SummaryOf(cluster.Grains, running)).Phase);
            Assert.Equal([JobAliveReminder.Name], await RemindersAsync(database, cluster.ClusterId, running));
        }
        finally
        {
            await cluster.StopAsync();
        }
    }

    [Fact]
    public async Task EachSiloOfTheCoordinatorIsARowOfTheMembershipTable()
    {
        var database = await server.CreateDatabaseAsync("membership");
        await using var cluster = new PostgreSqlCoordinator(database);
        await cluster.StartAsync();
        try
        {
            var first = await MembershipAsync(database, cluster.ClusterId);

            await cluster.StopAsync();
            await cluster.StartAsync();
            var second = await MembershipAsync(database, cluster.ClusterId);

            // Orleans' SiloStatus: 3 Active, 6 Dead (a silo that shut down cleanly says so).
            Assert.Equal([3], first.Select(m => m.Status));
            Assert.Equal([6, 3], second.Select(m => m.Status));
            Assert.Equal(first[0].Generation, second[0].Generation);
        }
        finally
        {
            await cluster.StopAsync();
        }
    }

    private static async Task Checkpoint(PostgreSqlCoordinator cluster, IJobGrain job, int epoch, long step, byte[] bytes)
    {
        var ticket = await job.BeginCheckpoint(new CheckpointRequest { Generation = 1, Rank = 0, Epoch = epoch, Cursor = 0, GlobalStep = step });
        Assert.StartsWith(cluster.CheckpointDirectory, ticket.StagingPath, StringComparison.Ordinal);
        await File.WriteAllBytesAsync(ticket.StagingPath!, bytes);
        var commit = new CheckpointCommit(1, ticket.CheckpointId, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        await cluster.Grains.GetGrain<ICheckpointSealerGrain>(job.GetPrimaryKeyString()).Seal(commit);
        await job.CommitCheckpoint(commit);
    }

    private static async Task<List<(int Status, int Generation)>> MembershipAsync(string connectionString, string clusterId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT status, generation FROM orleansmembershiptable WHERE deploymentid = $1 ORDER BY starttime, generation", connection);
        command.Parameters.AddWithValue(clusterId);
        await using var rows = await command.ExecuteReaderAsync();
        var members = new List<(int, int)>();
        while (await rows.ReadAsync())
        {
            members.Add((rows.GetInt32(0), rows.GetInt32(1)));
        }

        return members;
    }

    private static async Task<List<string>> RemindersAsync(string connectionString, string serviceId, string jobId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT remindername FROM orleansreminderstable WHERE serviceid = $1 AND grainid = $2", connection);
        command.Parameters.AddWithValue(serviceId);
        command.Parameters.AddWithValue(GrainId.Create("job", jobId).ToString());
        await using var rows = await command.ExecuteReaderAsync();
        var names = new List<string>();
        while (await rows.ReadAsync())
        {
            names.Add(rows.GetString(0));
        }

        return names;
    }

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
