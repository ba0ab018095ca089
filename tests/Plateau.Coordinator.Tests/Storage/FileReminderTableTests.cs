using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;
using Plateau.Coordinator.Storage.Reminders;

namespace Plateau.Coordinator.Tests.Storage;

public sealed class FileReminderTableTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("plateau-reminders-").FullName;
    private readonly FileReminderTable _table;

    public FileReminderTableTests() => _table = NewTable();

    public void Dispose()
    {
        _table.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task AnUpsertedRowIsReadBackByItsGrainWithANewETagEachTime()
    {
        var grain = GrainId.Create("job", "a");
        var first = await _table.UpsertRow(Entry(grain, "alive"));
        var second = await _table.UpsertRow(Entry(grain, "alive", minutes: 2));
        await _table.UpsertRow(Entry(grain, "other"));
        await _table.UpsertRow(Entry(GrainId.Create("job", "b"), "alive"));

        var rows = (await _table.ReadRows(grain)).Reminders.OrderBy(r => r.ReminderName, StringComparer.Ordinal).ToList();

        Assert.NotNull(first);
        Assert.NotEqual(first, second);
        Assert.Equal(["alive", "other"], rows.Select(r => r.ReminderName));
        Assert.Equal((second, TimeSpan.FromMinutes(2)), (rows[0].ETag, rows[0].Period));
        Assert.Equal(second, (await _table.ReadRow(grain, "alive"))!.ETag);
        Assert.Null(await _table.ReadRow(grain, "missing"));
    }

    [Fact]
    public async Task ARangeReadTakesTheHashesAboveBeginUpToEndAndWrapsAroundWhenBeginIsNotBelowEnd()
    {
        var grains = Enumerable.Range(0, 40).Select(i => GrainId.Create("job", $"g{i}")).ToList();
        foreach (var grain in grains)
        {
            await _table.UpsertRow(Entry(grain, "alive"));
        }

        var hashes = grains.Select(g => g.GetUniformHashCode()).Order().ToList();
        var (low, high) = (hashes[10], hashes[30]);

        Assert.Equal(hashes.Where(h => h > low && h <= high), await HashesIn(low, high));
        Assert.Equal(hashes.Where(h => h > high || h <= low), await HashesIn(high, low));
        Assert.Equal(hashes, await HashesIn(low, low));
        Assert.Empty(await HashesIn(hashes[^1], uint.MaxValue));
    }

    [Fact]
    public async Task ARowIsRemovedOnlyWithItsCurrentETag()
    {
        var grain = GrainId.Create("job", "a");
        var old = await _table.UpsertRow(Entry(grain, "alive"));
        var current = await _table.UpsertRow(Entry(grain, "alive"));

        Assert.False(await _table.RemoveRow(grain, "alive", old!));
        Assert.NotNull(await _table.ReadRow(grain, "alive"));
        Assert.True(await _table.RemoveRow(grain, "alive", current!));
        Assert.Null(await _table.ReadRow(grain, "alive"));
        Assert.False(await _table.RemoveRow(grain, "alive", current!));
    }

    [Fact]
    public async Task ANewTableOnTheSameFolderFindsTheRowsAndTheirETags()
    {
        var grain = GrainId.Create("job", "a");
        var start = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        var etag = await _table.UpsertRow(Entry(grain, "alive", start: start));
        var removed = await _table.UpsertRow(Entry(grain, "gone"));
        await _table.RemoveRow(grain, "gone", removed!);

        using var reopened = NewTable();
        await reopened.StartAsync();
        var row = Assert.Single((await reopened.ReadRows(grain)).Reminders);

        Assert.Equal((grain, "alive", start, TimeSpan.FromMinutes(1), etag), (row.GrainId, row.ReminderName, row.StartAt, row.Period, row.ETag));
        Assert.True(await reopened.RemoveRow(grain, "alive", etag!));
        Assert.Equal([FileReminderTable.FileName], Directory.GetFiles(_root).Select(Path.GetFileName));
    }

    [Fact]
    public async Task AnUnreadableFileIsNamedInTheError()
    {
        await File.WriteAllTextAsync(Path.Combine(_root, FileReminderTable.FileName), "{ not json");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _table.StartAsync());

        Assert.Contains(Path.Combine(_root, FileReminderTable.FileName), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheStateDirectoryIsRequiredAndNamedBySetting()
    {
        var result = new FileReminderTableOptionsValidator().Validate(null, new FileReminderTableOptions());

        Assert.Equal("reminder table: Directory (Plateau:Coordinator:StateDirectory) is required", result.FailureMessage);
    }

    private FileReminderTable NewTable() =>
        new(Options.Create(new FileReminderTableOptions { Directory = _root }), NullLogger<FileReminderTable>.Instance);

    private async Task<List<uint>> HashesIn(uint begin, uint end) =>
        (await _table.ReadRows(begin, end)).Reminders.Select(r => r.GrainId.GetUniformHashCode()).Order().ToList();

    private static ReminderEntry Entry(GrainId grain, string name, int minutes = 1, DateTime? start = null) => new()
    {
        GrainId = grain,
        ReminderName = name,
        StartAt = start ?? DateTime.UtcNow,
        Period = TimeSpan.FromMinutes(minutes),
    };
}
