using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Plateau.Coordinator.Storage.Reminders;

/// <summary>
/// Orleans' reminder table in a local file for the embedded default: every row in
/// <c>{StateDirectory}/reminders.json</c>, rewritten whole on each change to a temporary file, flushed to disk
/// and renamed over the old one (as <see cref="FileGrainStorage"/> does), so a crash leaves the old or the new
/// table. The rows are held in memory too; the file is read once, at start or at first use. Each upsert gives
/// the row a new ETag; a row is removed only with its current ETag.
/// </summary>
public sealed partial class FileReminderTable(IOptions<FileReminderTableOptions> options, ILogger<FileReminderTable> logger) : IReminderTable, IDisposable
{
    /// <summary>The file's name in the state directory.</summary>
    public const string FileName = "reminders.json";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    private readonly SemaphoreSlim _gate = new(1, 1);
    private Dictionary<(GrainId Grain, string Name), ReminderEntry>? _rows;

    private string PathOfTable => Path.Combine(options.Value.Directory, FileName);

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await LoadAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task<ReminderTableData> ReadRows(GrainId grainId) =>
        ReadAsync(rows => new ReminderTableData(rows.Values.Where(r => r.GrainId == grainId).Select(Copy)));

    /// <summary>Rows whose grain hash is in (begin, end]; when begin ≥ end the range wraps around: hash &gt; begin or
    /// hash ≤ end (begin = end is the whole ring), as Orleans' in-memory table reads its ring ranges.</summary>
    public Task<ReminderTableData> ReadRows(uint begin, uint end) =>
        ReadAsync(rows => new ReminderTableData(rows.Values.Where(r => InRange(r.GrainId.GetUniformHashCode(), begin, end)).Select(Copy)));

    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) =>
        ReadAsync(rows => rows.TryGetValue((grainId, reminderName), out var row) ? Copy(row) : null);

    public async Task<string?> UpsertRow(ReminderEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var row = Copy(entry);
        row.ETag = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        return await ChangeAsync(rows =>
        {
            rows[(row.GrainId, row.ReminderName)] = row;
            return row.ETag;
        });
    }

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) =>
        ChangeAsync(rows => rows.TryGetValue((grainId, reminderName), out var row) && row.ETag == eTag && rows.Remove((grainId, reminderName)));

    public Task TestOnlyClearTable() => ChangeAsync(rows =>
    {
        rows.Clear();
        return true;
    });

    public void Dispose() => _gate.Dispose();

    internal static bool InRange(uint hash, uint begin, uint end) =>
        begin < end ? hash > begin && hash <= end : hash > begin || hash <= end;

    private async Task<T> ReadAsync<T>(Func<Dictionary<(GrainId, string), ReminderEntry>, T> read)
    {
        await _gate.WaitAsync();
        try
        {
            return read(await LoadAsync(CancellationToken.None));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Applies <paramref name="change"/> to a copy of the rows and keeps the copy only once it is on disk.</summary>
    private async Task<T> ChangeAsync<T>(Func<Dictionary<(GrainId, string), ReminderEntry>, T> change)
    {
        await _gate.WaitAsync();
        try
        {
            var rows = new Dictionary<(GrainId, string), ReminderEntry>(await LoadAsync(CancellationToken.None));
            var result = change(rows);
            await WriteAsync(rows);
            _rows = rows;
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<Dictionary<(GrainId, string), ReminderEntry>> LoadAsync(CancellationToken cancellationToken)
    {
        if (_rows is { } loaded)
        {
            return loaded;
        }

        var path = PathOfTable;
        var rows = new Dictionary<(GrainId, string), ReminderEntry>();
        if (File.Exists(path))
        {
            try
            {
                await using var stream = File.OpenRead(path);
                var stored = await JsonSerializer.DeserializeAsync<List<StoredReminder>>(stream, JsonOptions, cancellationToken)
                    ?? throw new InvalidDataException("empty reminders file");
                foreach (var row in stored)
                {
                    var grain = GrainId.Parse(row.GrainId);
                    rows[(grain, row.ReminderName)] = new ReminderEntry
                    {
                        GrainId = grain,
                        ReminderName = row.ReminderName,
                        StartAt = row.StartAt,
                        Period = row.Period,
                        ETag = row.ETag,
                    };
                }
            }
            catch (Exception e) when (e is JsonException or InvalidDataException or FormatException or ArgumentException)
            {
                LogUnreadable(logger, path, e);
                throw new InvalidOperationException($"reminder table: {path} cannot be read: {e.Message}", e);
            }
        }

        _rows = rows;
        return rows;
    }

    private async Task WriteAsync(Dictionary<(GrainId, string), ReminderEntry> rows)
    {
        var path = PathOfTable;
        Directory.CreateDirectory(options.Value.Directory);
        var stored = rows.Values
            .OrderBy(r => r.GrainId.ToString(), StringComparer.Ordinal).ThenBy(r => r.ReminderName, StringComparer.Ordinal)
            .Select(r => new StoredReminder(r.GrainId.ToString(), r.ReminderName, r.StartAt, r.Period, r.ETag!))
            .ToList();
        var temporary = $"{path}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}.tmp";
        await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
        {
            await JsonSerializer.SerializeAsync(stream, stored, JsonOptions);
            await stream.FlushAsync();
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Callers (the reminder service) keep and change the entries they get; the table keeps its own.</summary>
    private static ReminderEntry Copy(ReminderEntry entry) => new()
    {
        GrainId = entry.GrainId,
        ReminderName = entry.ReminderName,
        StartAt = entry.StartAt,
        Period = entry.Period,
        ETag = entry.ETag,
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "Reminder table file {Path} cannot be read")]
    private static partial void LogUnreadable(ILogger logger, string path, Exception exception);
}
