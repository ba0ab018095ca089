using System.IO.MemoryMappedFiles;
using System.Security.Cryptography;

namespace Plateau.Collective.Transport.Sockets;

/// <summary>
/// A file in /dev/shm cut into fixed-size slots that one data connection's sender fills and its
/// receiver reads in place, when both ranks run on the same host. The TCP data socket stays: frame
/// headers travel on it (so ordering, peer death and every deadline behave exactly as without shared
/// memory), and the receiver returns each slot's index on it once the piece is reduced. What is saved
/// is the payload's two trips through the kernel's socket buffers and the copy out of a receive buffer.
/// </summary>
/// <remarks>
/// The receiver creates the file (mode 0600, random name, a random cookie in its first bytes),
/// allocates every page up front so a full /dev/shm is an error here rather than a SIGBUS mid-step,
/// and unlinks it as soon as the sender has answered: nothing is left behind if either process dies.
/// A sender on another host, or one that cannot open the file, declines and payloads stay inline.
/// </remarks>
internal sealed unsafe class SharedSlots : IDisposable
{
    /// <summary>Bytes before the first slot: the cookie both sides compare.</summary>
    public const int CookieBytes = 16;

    /// <summary>Where the files live; tmpfs on Linux.</summary>
    public const string Directory = "/dev/shm";

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private int _disposed;
    // The owner's reference plus one per piece being written or read: the mapping goes away with the
    // last of them, never under a copy in flight on another thread.
    private int _references = 1;

    private SharedSlots(string path, MemoryMappedFile file, int slotCount, int slotBytes)
    {
        Path = path;
        _file = file;
        SlotCount = slotCount;
        SlotBytes = slotBytes;
        _view = file.CreateViewAccessor(0, CookieBytes + ((long)slotCount * slotBytes), MemoryMappedFileAccess.ReadWrite);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _base = pointer + _view.PointerOffset;
    }

    public string Path { get; }

    public int SlotCount { get; }

    public int SlotBytes { get; }

    public ReadOnlySpan<byte> Cookie => new(_base, CookieBytes);

    public Span<byte> Slot(int index, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, SlotCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)length, (uint)SlotBytes, nameof(length));
        return new Span<byte>(_base + CookieBytes + ((long)index * SlotBytes), length);
    }

    /// <summary>Creates and fully allocates a slot file; null (and nothing left on disk) where this host offers no shared memory.</summary>
    public static SharedSlots? TryCreate(int slotCount, int slotBytes, out string? why)
    {
        why = null;
        if (!OperatingSystem.IsLinux() || !System.IO.Directory.Exists(Directory))
        {
            why = $"{Directory} does not exist";
            return null;
        }
        var path = System.IO.Path.Combine(Directory, $"plateau-{Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant()}");
        var length = CookieBytes + ((long)slotCount * slotBytes);
        FileStream? stream = null;
        try
        {
            stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.ReadWrite,
                Share = FileShare.ReadWrite,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            stream.Write(RandomNumberGenerator.GetBytes(CookieBytes));
            // Writing (not truncating) allocates every tmpfs page now: ENOSPC surfaces here.
            var zeros = new byte[1 << 20];
            for (var written = (long)CookieBytes; written < length; written += zeros.Length)
            {
                stream.Write(zeros, 0, (int)Math.Min(zeros.Length, length - written));
            }
            stream.Flush();
            var file = MemoryMappedFile.CreateFromFile(stream, null, length, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
            stream = null; // owned by the mapping now
            return new SharedSlots(path, file, slotCount, slotBytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            stream?.Dispose();
            TryDelete(path);
            why = ex.Message;
            return null;
        }
    }

    /// <summary>Opens the receiver's file if it is on this host and carries <paramref name="cookie"/>; null otherwise.</summary>
    public static SharedSlots? TryOpen(string path, ReadOnlySpan<byte> cookie, int slotCount, int slotBytes)
    {
        if (!OperatingSystem.IsLinux() || System.IO.Path.GetDirectoryName(path) != Directory ||
            !System.IO.Path.GetFileName(path).StartsWith("plateau-", StringComparison.Ordinal))
        {
            return null; // only ever map our own kind of file
        }
        var length = CookieBytes + ((long)slotCount * slotBytes);
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length != length)
            {
                return null;
            }
            var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, length, MemoryMappedFileAccess.ReadWrite);
            var slots = new SharedSlots(path, file, slotCount, slotBytes);
            if (!slots.Cookie.SequenceEqual(cookie))
            {
                slots.Dispose();
                return null;
            }
            return slots;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Removes the name; the mappings stay valid until disposed.</summary>
    public void Unlink() => TryDelete(Path);

    /// <summary>Keeps the mapping alive for one piece; false once it is being torn down.</summary>
    public bool TryAddReference()
    {
        var current = Volatile.Read(ref _references);
        while (current > 0)
        {
            var seen = Interlocked.CompareExchange(ref _references, current + 1, current);
            if (seen == current)
            {
                return true;
            }
            current = seen;
        }
        return false;
    }

    public void RemoveReference()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _file.Dispose();
        }
    }

    /// <summary>Drops the owner's reference; the mapping is unmapped once no piece uses it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            RemoveReference();
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Already gone (the other side unlinked it) or never created.
        }
    }
}
