using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Errors;

namespace Plateau.Coordinator.Checkpoints;

/// <summary>
/// The checkpoint storage as a directory: local disk in the embedded default, a PersistentVolume in
/// Kubernetes (<c>Plateau:Checkpoints:RootDirectory</c>). A checkpoint moves through three names in
/// <c>{job}/staging</c> and the job folder:
/// <list type="number">
/// <item><c>{id}.partial</c>: bytes arriving (written in place by a worker on a shared store, or by the
/// CheckpointTransfer service).</item>
/// <item><c>{id}.{sha256}.sealed</c>: size and SHA-256 verified, flushed to disk. Sealing reads the whole file,
/// so it runs outside any grain turn: in the transfer service while the bytes stream in
/// (<see cref="ReceiveAsync"/>, which can continue an interrupted upload), or in the job's sealer grain
/// (<see cref="SealAsync"/>).</item>
/// <item><c>{id}.ckpt</c>: committed by the JobGrain (<see cref="Commit"/>), which only checks the sealed name
/// and size and renames; only then does the registry entry exist.</item>
/// </list>
/// Being a directory, it can be shared (<see cref="ISharedCheckpointDirectory"/>): a worker that mounts it
/// writes the <c>.partial</c> file itself and restores from the <c>.ckpt</c> file.
/// </summary>
public sealed partial class DirectoryCheckpointStorage(IOptions<CheckpointStoreOptions> options, ILogger<DirectoryCheckpointStorage> logger)
    : ICheckpointStorage, ISharedCheckpointDirectory
{
    private const int BufferBytes = 1 << 16;
    private const string PartialSuffix = ".partial";
    private const string CommittedSuffix = ".ckpt";
    private const string SealedSuffix = ".sealed";

    private readonly string _root = Path.GetFullPath(options.Value.RootDirectory);

    /// <summary>Staging files a stream is writing now: a second stream for the same upload (a retry racing the
    /// broken call it replaces) waits for the first to end instead of interleaving with it.</summary>
    private readonly ConcurrentDictionary<string, byte> _receiving = new(StringComparer.Ordinal);

    public void BeginUpload(string jobId, string checkpointId)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(StagingPath(jobId, checkpointId))!);
        DiscardUpload(jobId, checkpointId);
    }

    /// <summary>Writes a whole upload from a stream to the staging name, unsealed (as a worker on a shared store does).</summary>
    public async Task WriteUploadAsync(string jobId, string checkpointId, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        BeginUpload(jobId, checkpointId);
        var staging = StagingPath(jobId, checkpointId);
        await using var file = new FileStream(staging, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferBytes, FileOptions.Asynchronous);
        await content.CopyToAsync(file, cancellationToken);
    }

    /// <summary>Writes and hashes the chunks as they arrive, flushes the file to disk and renames it to the sealed
    /// name under its hash; continuing at an offset truncates the file there and hashes the held prefix again.</summary>
    public async Task<SealedUpload> ReceiveAsync(string jobId, string checkpointId, long offset, IAsyncEnumerable<ReadOnlyMemory<byte>> chunks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var staging = StagingPath(jobId, checkpointId);
        if (!_receiving.TryAdd(staging, 0))
        {
            throw new UploadInProgressException(checkpointId);
        }

        try
        {
            if (offset == 0)
            {
                BeginUpload(jobId, checkpointId);
            }
            else if (!File.Exists(staging) || new FileInfo(staging).Length < offset)
            {
                var held = File.Exists(staging) ? new FileInfo(staging).Length : 0;
                throw new CheckpointRejectedException(checkpointId, string.Create(CultureInfo.InvariantCulture,
                    $"cannot continue the upload at byte {offset}: the coordinator holds {held} bytes of it (ask UploadStatus, or start over at 0)"));
            }

            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long size = offset;
            await using (var file = new FileStream(staging, offset == 0 ? FileMode.CreateNew : FileMode.Open, FileAccess.ReadWrite, FileShare.None, BufferBytes, FileOptions.Asynchronous))
            {
                if (offset > 0)
                {
                    file.SetLength(offset); // bytes past the offset are the ones the worker sends again
                    await HashPrefixAsync(file, hash, cancellationToken);
                }

                await foreach (var chunk in chunks.WithCancellation(cancellationToken))
                {
                    await file.WriteAsync(chunk, cancellationToken);
                    hash.AppendData(chunk.Span);
                    size += chunk.Length;
                }

                file.Flush(flushToDisk: true);
            }

            var sha = Convert.ToHexStringLower(hash.GetHashAndReset());
            File.Move(staging, SealedPath(jobId, checkpointId, sha), overwrite: true);
            return new SealedUpload(size, sha);
        }
        finally
        {
            _receiving.TryRemove(staging, out _);
        }
    }

    public UploadProgress UploadStatus(string jobId, string checkpointId)
    {
        if (SealedFiles(jobId, checkpointId).FirstOrDefault() is { } sealedFile)
        {
            return new UploadProgress(new FileInfo(sealedFile).Length, InProgress: false, Path.GetFileName(sealedFile).Substring(checkpointId.Length + 1, 64));
        }

        var staging = StagingPath(jobId, checkpointId);
        return new UploadProgress(File.Exists(staging) ? new FileInfo(staging).Length : 0, _receiving.ContainsKey(staging), SealedSha256: null);
    }

    private static async Task HashPrefixAsync(FileStream file, IncrementalHash hash, CancellationToken cancellationToken)
    {
        file.Position = 0;
        var buffer = new byte[BufferBytes];
        int read;
        while ((read = await file.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
        }
    }

    public async Task SealAsync(string jobId, string checkpointId, long expectedSize, string expectedSha256, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(expectedSha256);
        var staging = StagingPath(jobId, checkpointId);
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

        File.Move(staging, SealedPath(jobId, checkpointId, expectedSha256.ToLowerInvariant()), overwrite: true);
    }

    /// <summary>Checks the sealed file's name (the hash) and size, then one rename: no byte is read.</summary>
    public StorageOutcome Commit(string jobId, string checkpointId, long expectedSize, string expectedSha256)
    {
        ArgumentException.ThrowIfNullOrEmpty(expectedSha256);
        var sealedPath = SealedPath(jobId, checkpointId, expectedSha256.ToLowerInvariant());
        var final = CommittedPath(jobId, checkpointId);
        var outcome = SealedOutcome(jobId, checkpointId, sealedPath, expectedSize, expectedSha256);
        if (!outcome.IsSound)
        {
            DiscardUpload(jobId, checkpointId);
            LogRejected(logger, jobId, checkpointId, outcome.Problem);
            return outcome;
        }

        if (File.Exists(final))
        {
            return new StorageOutcome(StorageFault.AlreadyCommitted, "is already committed");
        }

        File.Move(sealedPath, final, overwrite: false);
        LogCommitted(logger, jobId, checkpointId, expectedSize);
        return StorageOutcome.Sound;
    }

    /// <summary>Files written since <paramref name="olderThan"/> stay: an upload begun after the sweep was asked
    /// for is never touched.</summary>
    public int SweepStaging(string jobId, IReadOnlySet<string> pending, IReadOnlySet<string> committed, DateTimeOffset olderThan)
    {
        ArgumentNullException.ThrowIfNull(pending);
        ArgumentNullException.ThrowIfNull(committed);
        var jobFolder = new DirectoryInfo(Path.Combine(_root, Checked(jobId, "job id")));
        var staging = new DirectoryInfo(Path.Combine(jobFolder.FullName, "staging"));
        var swept = 0;
        foreach (var file in staging.Exists ? staging.EnumerateFiles() : [])
        {
            if (StagedId(file.Name) is { } id && !pending.Contains(id) && file.LastWriteTimeUtc < olderThan.UtcDateTime)
            {
                file.Delete();
                swept++;
            }
        }

        foreach (var file in jobFolder.Exists ? jobFolder.EnumerateFiles("*" + CommittedSuffix) : [])
        {
            var id = file.Name[..^CommittedSuffix.Length];
            if (!committed.Contains(id) && !pending.Contains(id) && file.LastWriteTimeUtc < olderThan.UtcDateTime)
            {
                file.Delete();
                swept++;
            }
        }

        if (swept > 0)
        {
            LogSwept(logger, jobId, swept);
        }

        return swept;
    }

    /// <summary>The checkpoint id of a staging file name (<c>{id}.partial</c> or <c>{id}.{sha256}.sealed</c>), else null.</summary>
    private static string? StagedId(string fileName)
    {
        if (fileName.EndsWith(PartialSuffix, StringComparison.Ordinal))
        {
            return fileName[..^PartialSuffix.Length];
        }

        var hashed = fileName.Length - SealedSuffix.Length - 65;
        return fileName.EndsWith(SealedSuffix, StringComparison.Ordinal) && hashed > 0 && fileName[hashed] == '.' && Sha256Hex().IsMatch(fileName.AsSpan(hashed + 1, 64))
            ? fileName[..hashed]
            : null;
    }

    /// <summary>A stat of the committed file, no read.</summary>
    public StorageOutcome Check(string jobId, CheckpointRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var path = CommittedPath(jobId, record.CheckpointId);
        var file = new FileInfo(path);
        return !file.Exists ? new StorageOutcome(StorageFault.Missing, $"file {path} is missing")
            : file.Length != record.SizeBytes ? new StorageOutcome(StorageFault.WrongSize, $"size is {file.Length} bytes, expected {record.SizeBytes}")
            : StorageOutcome.Sound;
    }

    public Task<Stream> OpenReadAsync(string jobId, string checkpointId, CancellationToken cancellationToken = default) =>
        Task.FromResult<Stream>(new FileStream(CommittedPath(jobId, checkpointId), FileMode.Open, FileAccess.Read, FileShare.Read, BufferBytes, FileOptions.Asynchronous | FileOptions.SequentialScan));

    public void DiscardUpload(string jobId, string checkpointId)
    {
        var staging = StagingPath(jobId, checkpointId);
        File.Delete(staging);
        foreach (var sealedFile in SealedFiles(jobId, checkpointId))
        {
            File.Delete(sealedFile);
        }
    }

    public void Delete(string jobId, string checkpointId)
    {
        File.Delete(CommittedPath(jobId, checkpointId));
        DiscardUpload(jobId, checkpointId);
    }

    public string CommittedPath(string jobId, string checkpointId) =>
        Path.Combine(_root, Checked(jobId, "job id"), Checked(checkpointId, "checkpoint id") + CommittedSuffix);

    public string StagingPath(string jobId, string checkpointId) =>
        Path.Combine(_root, Checked(jobId, "job id"), "staging", Checked(checkpointId, "checkpoint id") + PartialSuffix);

    private string SealedPath(string jobId, string checkpointId, string sha256) =>
        Path.Combine(_root, Checked(jobId, "job id"), "staging", $"{Checked(checkpointId, "checkpoint id")}.{CheckedSha(checkpointId, sha256)}{SealedSuffix}");

    private IEnumerable<string> SealedFiles(string jobId, string checkpointId)
    {
        var folder = Path.GetDirectoryName(StagingPath(jobId, checkpointId))!;
        return Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, checkpointId + ".*" + SealedSuffix).Where(f => IsSealedNameOf(Path.GetFileName(f), checkpointId))
            : [];
    }

    private static bool IsSealedNameOf(string fileName, string checkpointId) =>
        fileName.Length == checkpointId.Length + 1 + 64 + SealedSuffix.Length && fileName.StartsWith(checkpointId + ".", StringComparison.Ordinal);

    private StorageOutcome SealedOutcome(string jobId, string checkpointId, string sealedPath, long expectedSize, string expectedSha256)
    {
        var file = new FileInfo(sealedPath);
        if (file.Exists)
        {
            return file.Length == expectedSize ? StorageOutcome.Sound : new StorageOutcome(StorageFault.WrongSize, $"size is {file.Length} bytes, expected {expectedSize}");
        }

        if (SealedFiles(jobId, checkpointId).FirstOrDefault() is { } other)
        {
            var name = Path.GetFileName(other);
            return new StorageOutcome(StorageFault.WrongSha256, $"SHA-256 is {name.Substring(checkpointId.Length + 1, 64)}, expected {expectedSha256}");
        }

        return File.Exists(StagingPath(jobId, checkpointId))
            ? new StorageOutcome(StorageFault.NotSealed, "the upload was never sealed (its size and SHA-256 were not verified)")
            : new StorageOutcome(StorageFault.Missing, $"no upload at {StagingPath(jobId, checkpointId)}");
    }

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
        var sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
        return string.Equals(sha, expectedSha256, StringComparison.OrdinalIgnoreCase)
            ? null
            : $"SHA-256 is {sha}, expected {expectedSha256}";
    }

    private static string CheckedSha(string checkpointId, string sha256) =>
        Sha256Hex().IsMatch(sha256) ? sha256 : throw new CheckpointRejectedException(checkpointId, $"SHA-256 {Quote.Value(sha256)} is not 64 hex digits");

    private static string Checked(string id, string what) =>
        SafeId().IsMatch(id) ? id : throw new ArgumentException($"{what} {Quote.Value(id)} may only hold letters, digits, '-', '_' and '.'", nameof(id));

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex SafeId();

    [GeneratedRegex(@"^[0-9a-f]{64}$")]
    private static partial Regex Sha256Hex();

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: checkpoint {CheckpointId} committed ({Size} bytes)")]
    private static partial void LogCommitted(ILogger logger, string jobId, string checkpointId, long size);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: removed {Count} leftover uploads from staging")]
    private static partial void LogSwept(ILogger logger, string jobId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: checkpoint {CheckpointId} rejected: {Problem}")]
    private static partial void LogRejected(ILogger logger, string jobId, string checkpointId, string problem);
}
