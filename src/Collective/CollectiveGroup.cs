using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Plateau.Collective.Hosting;
using Plateau.Collective.Ring;
using Plateau.Collective.Transport;
using Plateau.Collective.Transport.Sockets;
using Plateau.Protos.Collective.V1;

namespace Plateau.Collective;

/// <summary>
/// One rank's membership in one generation of a job's ring. Operations must be called in the same
/// order on every rank (like NCCL/Gloo); calls on one rank are serialised in call order. Any failure
/// (dead, stalled or refusing peer, deadline, mismatch, local cancellation) breaks the group for good:
/// every rank gets a <see cref="CollectiveException"/> naming the failed rank, and the job re-forms
/// the ring by joining a new group with a higher generation on the same endpoint.
/// </summary>
public sealed partial class CollectiveGroup : ICollective, IAsyncDisposable
{
    private static readonly TimeSpan ControlSendTimeout = TimeSpan.FromSeconds(2);

    private readonly RingOptions _options;
    private readonly CollectivePeerRegistry _registry;
    private readonly UpstreamLink[] _upstream;
    private readonly DownstreamLink?[] _downstream;
    private readonly TaskCompletionSource[] _downstreamArrived;
    private readonly List<Task> _pumps = [];
    private readonly SemaphoreSlim _operationLock = new(1, 1);
    private readonly CancellationTokenSource _failed = new();
    private readonly CancellationTokenSource _stopping = new();
    private CollectiveException? _failure;
    // Completes once the failing rank's abort has been written on every link (or given up on): set by
    // the thread whose verdict won, awaited by TearDownAsync, whichever thread saw the verdict first.
    private readonly TaskCompletionSource _abortSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Goodbyes of neighbours that left in good order, by rank: both neighbours may leave before this rank
    // finishes (it was the slowest), and a send to one must be judged by that one's goodbye.
    private readonly ConcurrentDictionary<int, PeerDeparture> _departures = new();
    private ulong _operationSequence;
    private ulong _completedSequence;
    private int _pendingReads;
    private int _pendingWrites;
    private volatile bool _disposed;

    private CollectiveGroup(RingOptions options, CollectivePeerRegistry registry, ILogger logger)
    {
        _options = options;
        _registry = registry;
        Logger = logger;
        Secret = (byte[])options.Secret.Clone();
        var streams = options.WorldSize > 1 ? options.StreamsPerPeer : 0;
        _upstream = new UpstreamLink[streams];
        _downstream = new DownstreamLink?[streams];
        _downstreamArrived = Enumerable.Range(0, streams).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
    }

    public string JobId => _options.JobId;

    public long Generation => _options.Generation;

    public int Rank => _options.Rank;

    public int WorldSize => _options.WorldSize;

    /// <summary>Rank this one receives from.</summary>
    public int LeftRank => (Rank - 1 + WorldSize) % WorldSize;

    /// <summary>Rank this one sends to.</summary>
    public int RightRank => (Rank + 1) % WorldSize;

    public int StreamsPerPeer => _options.StreamsPerPeer;

    /// <summary>Data path this rank asked for (a stream to or from a TLS endpoint uses gRPC regardless).</summary>
    public DataTransport Transport => _options.Transport;

    internal CollectivePeerRegistry Registry => _registry;

    /// <summary>Incoming streams whose chunks arrive on a raw data socket (the rest use gRPC).</summary>
    internal int DataSocketCount => _upstream.Count(link => link?.HasDataSocket == true);

    /// <summary>Incoming streams whose payloads arrive through a shared-memory slot file (sender on this host).</summary>
    internal int SharedMemoryStreamCount => _upstream.Count(link => link?.UsesSharedMemory == true);

    /// <summary>The failure that broke this group, or null while it is healthy.</summary>
    public CollectiveException? Failure => _failure;

    internal bool IsDisposed => _disposed;

    internal byte[] Secret { get; }

    internal ILogger Logger { get; }

    internal string AddressOf(int rank) => _options.AddressOf(rank);

    /// <summary>Joins the ring on a standalone <see cref="CollectiveServer"/>.</summary>
    public static Task<CollectiveGroup> JoinAsync(CollectiveServer server, RingOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        return JoinAsync(server.Registry, options, loggerFactory, cancellationToken);
    }

    /// <summary>
    /// Joins the ring: registers with this process's endpoint, connects <see cref="RingOptions.StreamsPerPeer"/>
    /// authenticated streams to the right neighbour and waits for the left neighbour's, all within
    /// <see cref="RingOptions.ConnectTimeout"/>.
    /// </summary>
    public static async Task<CollectiveGroup> JoinAsync(CollectivePeerRegistry registry, RingOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(options);
        var validation = new RingOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(nameof(RingOptions), typeof(RingOptions), validation.Failures);
        }
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<CollectiveGroup>();
        var group = new CollectiveGroup(options, registry, logger);
        if (options.WorldSize == 1)
        {
            CollectiveLog.Joined(logger, options.JobId, options.Generation, options.Rank, options.WorldSize, 0, options.Compression);
            return group;
        }
        registry.Register(group);
        try
        {
            var deadline = DateTimeOffset.UtcNow + options.ConnectTimeout;
            for (var s = 0; s < group._upstream.Length; s++)
            {
                group._upstream[s] = new UpstreamLink(group, options, s);
            }
            await Task.WhenAll(group._upstream.Select(link => link.ConnectAsync(options, deadline, cancellationToken)));
            var remaining = deadline - DateTimeOffset.UtcNow;
            try
            {
                await Task.WhenAll(group._downstreamArrived.Select(t => t.Task)).WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, cancellationToken);
            }
            catch (TimeoutException ex)
            {
                throw new CollectiveException($"rank {group.RightRank} ({options.AddressOf(group.RightRank)}) did not connect to rank {options.Rank} within {options.ConnectTimeout.TotalSeconds:0.#} s", group.RightRank, options.AddressOf(group.RightRank), ex);
            }
            CollectiveLog.Joined(logger, options.JobId, options.Generation, options.Rank, options.WorldSize, options.StreamsPerPeer, options.Compression);
            return group;
        }
        catch
        {
            await group.TearDownAsync(graceful: false);
            throw;
        }
    }

    /// <summary>Runs an accepted incoming stream for its lifetime (called by the registry's handler).</summary>
    internal async Task ServeIncomingAsync(int streamIndex, IAsyncStreamReader<WireFrame> requests, IServerStreamWriter<WireFrame> responses, ServerCallContext context, string remote, PendingDataSocket? data, TimeSpan dataTimeout)
    {
        System.Net.Sockets.Socket? socket = null;
        if (data is not null)
        {
            try
            {
                socket = await data.Arrived.WaitAsync(dataTimeout, context.CancellationToken);
            }
            catch (TimeoutException)
            {
                throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"no data connection presented stream {streamIndex}'s token within {dataTimeout.TotalSeconds:0.#} s"));
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, $"data connection for stream {streamIndex} failed: {ex.Message}"));
            }
        }
        var slots = socket is null ? null : await AnswerSharedMemoryOfferAsync(socket, streamIndex, dataTimeout);
        var link = new DownstreamLink(this, streamIndex, requests, responses, context, remote, socket, slots);
        lock (_downstream)
        {
            if (_disposed || _downstream[streamIndex] is not null)
            {
                throw new RpcException(new Status(StatusCode.AlreadyExists, $"stream {streamIndex} from rank {RightRank} is already connected for generation {Generation}"));
            }
            _downstream[streamIndex] = link;
        }
        CollectiveLog.Accepted(Logger, JobId, Generation, Rank, streamIndex, RightRank, remote);
        var pump = link.PumpAsync(_stopping.Token);
        lock (_pumps)
        {
            _pumps.Add(pump);
        }
        _downstreamArrived[streamIndex].TrySetResult();
        await pump;
    }

    private async Task<SharedSlots?> AnswerSharedMemoryOfferAsync(System.Net.Sockets.Socket socket, int streamIndex, TimeSpan dataTimeout)
    {
        try
        {
            return await Task.Run(() =>
            {
                socket.ReceiveTimeout = (int)Math.Min(int.MaxValue, dataTimeout.TotalMilliseconds);
                var slots = SharedMemoryOffer.Answer(socket, _options.SharedMemory);
                socket.ReceiveTimeout = 0;
                return slots;
            });
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException or InvalidDataException)
        {
            socket.Dispose();
            throw new RpcException(new Status(StatusCode.Unavailable, $"data connection for stream {streamIndex} failed during the shared-memory offer: {ex.Message}"));
        }
    }

    /// <summary>
    /// A peer closed a link in good order. After its goodbye (which travels ahead of the close on the
    /// same stream) this is not a failure yet: pieces it sent are still queued and the operation in
    /// flight may finish from them; whatever needs the leaver again fails naming it.
    /// </summary>
    internal void LinkEnded(int peerRank, string reason)
    {
        if (!_departures.ContainsKey(peerRank))
        {
            LinkLost(peerRank, reason, null);
        }
    }

    /// <summary>
    /// A link broke: fails the group naming the peer, unless this rank is leaving anyway or the peer
    /// left after completing every operation this rank has started (the next one fails naming it).
    /// Returns the exception to throw.
    /// </summary>
    internal CollectiveException LinkLost(int peerRank, string reason, Exception? cause)
    {
        var departure = _departures.GetValueOrDefault(peerRank);
        if (departure is not null && departure.Covers(Volatile.Read(ref _operationSequence)))
        {
            return _failure ?? departure.Verdict;
        }
        var failure = departure?.Verdict ?? new CollectiveException($"job {JobId} generation {Generation}: {reason}", peerRank, AddressOf(peerRank), cause);
        if (!_disposed)
        {
            Fail(failure, failure == departure?.Verdict ? failure.Message : reason);
        }
        return _failure ?? failure;
    }

    /// <summary>
    /// A link to <paramref name="peerRank"/> ended or broke, but not on its control stream: a data socket
    /// closed or reset, or a send failed. That alone does not say why: the peer may have died, or it may
    /// have failed on another rank's verdict (or left) and be closing its links, with the abort that
    /// names the real culprit on its way down the control stream (which is a separate connection, so its
    /// frames can arrive after the data socket's end). So the control stream is heard out first: until
    /// it ends (<paramref name="controlStreamEnded"/>), a verdict arrives, or <see cref="ControlSendTimeout"/>
    /// passes. A killed peer's control stream breaks at once too, so this costs a dead peer no time.
    /// </summary>
    internal async Task<CollectiveException> LinkLostAfterControlAsync(int peerRank, string reason, Exception? cause, Task controlStreamEnded)
    {
        if (_failure is null && !_disposed)
        {
            await Task.WhenAny(controlStreamEnded, Task.Delay(ControlSendTimeout, _failed.Token)).ConfigureAwait(false);
        }
        return LinkLost(peerRank, reason, cause);
    }

    /// <summary>
    /// A send of operation <paramref name="sequence"/> toward <paramref name="peerRank"/> failed: it
    /// was delivered after all if the peer said goodbye having completed that operation. The goodbye
    /// travels on the control stream, which <paramref name="controlStreamEnded"/> finishes reading.
    /// </summary>
    internal async Task<bool> WasDeliveredToLeaverAsync(int peerRank, ulong sequence, Task controlStreamEnded)
    {
        if (!_departures.ContainsKey(peerRank) && _failure is null)
        {
            // Until the peer's control stream ends (a goodbye travels ahead of its end) or a verdict
            // arrives from elsewhere (an abort naming the rank that really failed).
            await Task.WhenAny(controlStreamEnded, Task.Delay(ControlSendTimeout, _failed.Token)).ConfigureAwait(false);
        }
        return _departures.TryGetValue(peerRank, out var departure) && departure.Covers(sequence);
    }

    /// <summary>An abort came round the ring: adopt its verdict (first one wins) and pass it on.</summary>
    internal void OnAbortFrame(Abort abort)
    {
        if (_disposed || _failure is not null)
        {
            return;
        }
        var address = string.IsNullOrEmpty(abort.FailedAddress) ? AddressOf(abort.FailedRank) : abort.FailedAddress;
        if (abort.Leaving)
        {
            // Data the leaver sent before its goodbye is still queued: let the operation in flight
            // finish from it; whatever needs the leaver again fails naming it.
            var verdict = new CollectiveException($"job {JobId} generation {Generation}: {abort.Reason}", abort.FailedRank, address);
            _departures.TryAdd(abort.FailedRank, new PeerDeparture(abort.FailedRank, abort.CompletedSequence, verdict));
            return;
        }
        var failure = new CollectiveException(
            $"job {JobId} generation {Generation}: rank {abort.ReportingRank} aborted the ring: {abort.Reason}",
            abort.FailedRank, address);
        Fail(failure, abort.Reason);
    }

    private void Fail(CollectiveException failure, string reason)
    {
        if (Interlocked.CompareExchange(ref _failure, failure, null) is not null)
        {
            return;
        }
        CollectiveLog.GroupFailed(Logger, JobId, Generation, Rank, failure.FailedRank, failure.FailedAddress, reason);
        var abort = new PeerFrame
        {
            Abort = new Abort { FailedRank = failure.FailedRank, FailedAddress = failure.FailedAddress ?? "", Reason = reason, ReportingRank = Rank },
        };
        // The abort goes on every link before the operation is woken: cancelling runs the operation's
        // continuations, and its caller typically disposes the group at once. Were the links closed
        // before the abort was on them, the neighbours would see an unexplained close and blame this
        // rank instead of the one that failed. TearDownAsync waits for these sends. A group that has
        // left or been killed says nothing more: its verdict is its own (a killed rank's in-flight operation
        // sees its own links go and would otherwise blame a live neighbour to the whole ring).
        if (_disposed)
        {
            _abortSent.TrySetResult();
        }
        else
        {
            _ = SendControlEverywhereAsync(abort).ContinueWith(static (_, state) => ((TaskCompletionSource)state!).TrySetResult(), _abortSent, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        _failed.Cancel();
    }

    private Task SendControlEverywhereAsync(PeerFrame control)
    {
        var sends = new List<Task>();
        foreach (var link in _upstream)
        {
            if (link is not null)
            {
                sends.Add(link.TrySendControlAsync(control, ControlSendTimeout));
            }
        }
        lock (_downstream)
        {
            foreach (var link in _downstream)
            {
                if (link is not null)
                {
                    sends.Add(link.TrySendControlAsync(control, ControlSendTimeout));
                }
            }
        }
        return Task.WhenAll(sends);
    }

    /// <summary>Leaves the ring: neighbours are told (so their next operation fails at once, naming this rank), then every stream is closed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        if (_failure is null && WorldSize > 1)
        {
            await SendControlEverywhereAsync(new PeerFrame
            {
                Abort = new Abort { FailedRank = Rank, FailedAddress = AddressOf(Rank), Reason = $"rank {Rank} left the group", ReportingRank = Rank, Leaving = true, CompletedSequence = Volatile.Read(ref _completedSequence) },
            });
        }
        await TearDownAsync(graceful: true);
        CollectiveLog.Left(Logger, JobId, Generation, Rank);
    }

    /// <summary>Tests: vanish like a crashed process (streams reset, no goodbye).</summary>
    internal async Task KillAsync()
    {
        _disposed = true;
        _registry.Unregister(this);
        foreach (var link in _upstream)
        {
            link?.Kill();
        }
        lock (_downstream)
        {
            foreach (var link in _downstream)
            {
                link?.Kill();
            }
        }
        _stopping.Cancel();
        _failed.Cancel();
        await WaitForPumpsAsync();
    }

    private async Task TearDownAsync(bool graceful)
    {
        // A failed group's abort must be on its links before they close (each send gives up on its own
        // after ControlSendTimeout), or a neighbour would read the close first and blame this rank. The
        // verdict may have been seen here before the thread that set it has queued the abort: wait for that.
        if (_failure is not null)
        {
            await Task.WhenAny(_abortSent.Task, Task.Delay(2 * ControlSendTimeout)); // each send gives up by itself; never hang a dispose
        }
        _disposed = true;
        _registry.Unregister(this);
        _failed.Cancel();
        foreach (var link in _upstream)
        {
            if (link is not null)
            {
                if (graceful)
                {
                    await link.DisposeAsync();
                }
                else
                {
                    link.Kill();
                }
            }
        }
        _stopping.Cancel();
        await WaitForPumpsAsync();
    }

    private async Task WaitForPumpsAsync()
    {
        Task[] pumps;
        lock (_pumps)
        {
            pumps = [.. _pumps];
        }
        try
        {
            await Task.WhenAll(pumps).WaitAsync(TimeSpan.FromSeconds(2));
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            // Pumps end with their HTTP/2 streams; nothing else waits on them.
        }
    }
}
