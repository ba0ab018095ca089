using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Errors;

namespace Plateau.Coordinator.Checkpoints;

/// <summary>
/// The central checkpoint files, local directory backend (DESIGN.md invariant 5): an upload lands in
/// <c>{job}/staging/{id}.partial</c>; commit verifies its size and SHA-256, flushes it and renames it
/// atomically to <c>{job}/{id}.ckpt</c>. Only then does the JobGrain add the registry entry. Restore
/// verifies again and falls back to the previous committed checkpoint.
/// </summary>
public sealed partial class CheckpointStore(IOptions<CheckpointStoreOptions> options, ILogger<CheckpointStore> logger)
{
    private readonly string _root = Path.GetFullPath(options.Value.RootDirectory);

    /// <summary>Where the bytes of an uncommitted checkpoint go; any earlier partial upload is discarded.</summary>
    public string BeginUpload(string jobId, string checkpointId)
    {
        var staging = StagingPath(jobId, checkpointId);
        Directory.CreateDirectory(Path.GetDirectoryName(staging)!);
        File.Delete(staging);
        return staging;
    }

    /// <summary>Writes a whole upload from a stream (used by transfer services and tests).</summary>
    public async Task WriteUploadAsync(string jobId, string checkpointId, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var staging = BeginUpload(jobId, checkpointId);
        await using var file = new FileStream(staging, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        await content.CopyToAsync(file, cancellationToken);
    }

    /// <summary>Verifies the upload and renames it into place. Throws <see cref="CheckpointRejectedException"/>
    /// (and deletes the upload) when it does not match.</summary>
    public async Task<string> CommitAsync(string jobId, string checkpointId, long expectedSize, string expectedSha256, CancellationToken cancellationToken = default)
    {
        var staging = StagingPath(jobId, checkpointId);
        var final = CommittedPath(jobId, checkpointId);
        if (!File.Exists(staging))
        {
            throw new CheckpointRejectedException(checkpointId, $"no upload at {staging}");
        }

        var problem = await VerifyFileAsync(staging, expectedSize, expectedSha256, cancellationToken);
        if (problem is not null)
        {
            File.Delete(staging);
            LogRejected(logger, jobId, checkpointId, problem);
            throw new CheckpointRejectedException(checkpointId, problem + "; upload discarded");
        }

        await using (var file = new FileStream(staging, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            file.Flush(flushToDisk: true);
        }

        if (File.Exists(final))
        {
            throw new CheckpointRejectedException(checkpointId, "is already committed");
        }

        File.Move(staging, final, overwrite: false);
        LogCommitted(logger, jobId, checkpointId, expectedSize);
        return final;
    }

    /// <summary>Null when the committed file matches its registry entry, else what is wrong.</summary>
    public Task<string?> VerifyAsync(string jobId, CheckpointRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return VerifyFileAsync(CommittedPath(jobId, record.CheckpointId), record.SizeBytes, record.Sha256, cancellationToken);
    }

    /// <summary>The newest of <paramref name="committed"/> (oldest first) that verifies.</summary>
    public async Task<RestoreChoice> ChooseRestoreAsync(string jobId, IReadOnlyList<CheckpointRecord> committed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(committed);
        var rejected = new List<(CheckpointRecord, string)>();
        for (var i = committed.Count - 1; i >= 0; i--)
        {
            var problem = await VerifyAsync(jobId, committed[i], cancellationToken);
            if (problem is null)
            {
                return new RestoreChoice(committed[i], CommittedPath(jobId, committed[i].CheckpointId), rejected);
            }

            LogRestoreRejected(logger, jobId, committed[i].CheckpointId, problem);
            rejected.Add((committed[i], problem));
        }

        return new RestoreChoice(null, null, rejected);
    }

    /// <summary>Removes what an abandoned upload left in staging, if anything.</summary>
    public void DiscardUpload(string jobId, string checkpointId) => File.Delete(StagingPath(jobId, checkpointId));

    public void Delete(string jobId, string checkpointId)
    {
        File.Delete(CommittedPath(jobId, checkpointId));
        File.Delete(StagingPath(jobId, checkpointId));
    }

    public string CommittedPath(string jobId, string checkpointId) =>
        Path.Combine(_root, Checked(jobId, "job id"), Checked(checkpointId, "checkpoint id") + ".ckpt");

    public string StagingPath(string jobId, string checkpointId) =>
        Path.Combine(_root, Checked(jobId, "job id"), "staging", Checked(checkpointId, "checkpoint id") + ".partial");

    public static async Task<string> Sha256Async(Stream content, CancellationToken cancellationToken = default) =>
        Convert.ToHexStringLower(await SHA256.HashDataAsync(content, cancellationToken));

    private static async Task<string?> VerifyFileAsync(string path, long expectedSize, string expectedSha256, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return $"file {path} is missing";
        }

        var size = new FileInfo(path).Length;
        if (size != expectedSize)
        {
            return $"size is {size} bytes, expected {expectedSize}";
        }

        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var sha = await Sha256Async(file, cancellationToken);
        return string.Equals(sha, expectedSha256, StringComparison.OrdinalIgnoreCase)
            ? null
            : $"SHA-256 is {sha}, expected {expectedSha256}";
    }

    private static string Checked(string id, string what) =>
        SafeId().IsMatch(id) ? id : throw new ArgumentException($"{what} {Quote.Value(id)} may only hold letters, digits, '-', '_' and '.'", nameof(id));

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex SafeId();

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: checkpoint {CheckpointId} committed ({Size} bytes)")]
    private static partial void LogCommitted(ILogger logger, string jobId, string checkpointId, long size);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: checkpoint {CheckpointId} rejected: {Problem}")]
    private static partial void LogRejected(ILogger logger, string jobId, string checkpointId, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: checkpoint {CheckpointId} failed verification on restore, falling back: {Problem}")]
    private static partial void LogRestoreRejected(ILogger logger, string jobId, string checkpointId, string problem);
}
