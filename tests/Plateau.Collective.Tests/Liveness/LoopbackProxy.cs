using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Plateau.Collective.Tests.Liveness;

/// <summary>
/// A TCP relay on loopback in front of one rank, for the connections one other rank opens to it. Told to stop
/// forwarding, it becomes a network partition: every connection stays open and nothing more crosses in either
/// direction, so neither end sees a reset or a close, only silence (what a cut cable or a dropped route gives).
/// Told to delay, it holds each read from the target that long before passing it on, in order (a slow route).
/// </summary>
internal sealed class LoopbackProxy : IAsyncDisposable
{
    private const int BufferBytes = 1 << 16;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _cut = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Socket> _sockets = [];
    private readonly Task _accepting;
    private long _delayTicks;

    public LoopbackProxy(Uri target)
    {
        ArgumentNullException.ThrowIfNull(target);
        _target = new IPEndPoint(IPAddress.Parse(target.Host), target.Port);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The address the dialling rank uses instead of the target's own.</summary>
    public string Address => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public void StopForwarding() => _cut.TrySetResult();

    /// <summary>From now on, what the target sends reaches the dialling rank <paramref name="delay"/> late (order kept).</summary>
    public void DelayFromTarget(TimeSpan delay) => Interlocked.Exchange(ref _delayTicks, delay.Ticks);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        lock (_sockets)
        {
            _sockets.ForEach(s => s.Dispose());
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        lock (_sockets)
        {
            _sockets.Add(client);
            _sockets.Add(server);
        }

        try
        {
            await server.ConnectAsync(_target, _stop.Token);
            await Task.WhenAny(PumpAsync(client, server, fromTarget: false), PumpAsync(server, client, fromTarget: true));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // the proxy is going away, or an end closed
        }

        if (!_cut.Task.IsCompleted)
        {
            // An end closed before the cut: pass the close on, as a route would.
            client.Dispose();
            server.Dispose();
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool fromTarget)
    {
        var buffer = new byte[BufferBytes];
        Channel<(byte[] Data, int Length, long Due)>? late = null;
        Task forwarding = Task.CompletedTask;
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (_cut.Task.IsCompleted)
                {
                    // Cut: hold what arrived, read nothing more (the sender's window fills) and never close.
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                }

                var delay = fromTarget ? Interlocked.Read(ref _delayTicks) : 0;
                if (delay > 0 && late is null)
                {
                    late = Channel.CreateUnbounded<(byte[] Data, int Length, long Due)>();
                    forwarding = ForwardLateAsync(late.Reader, to);
                }

                if (late is not null)
                {
                    // Latency, not a throttle: each read goes on at its own due time, in order, while reading goes on.
                    late.Writer.TryWrite((buffer.AsSpan(0, read).ToArray(), read, Stopwatch.GetTimestamp() + (delay * Stopwatch.Frequency / TimeSpan.TicksPerSecond)));
                }
                else if (read > 0)
                {
                    await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
                }

                if (read == 0)
                {
                    return;
                }
            }
        }
        finally
        {
            late?.Writer.TryComplete();
            await forwarding;
        }
    }

    private async Task ForwardLateAsync(ChannelReader<(byte[] Data, int Length, long Due)> late, Socket to)
    {
        await foreach (var (data, length, due) in late.ReadAllAsync(_stop.Token))
        {
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _stop.Token);
            }

            if (length == 0)
            {
                return;
            }

            await to.SendAsync(data, SocketFlags.None, _stop.Token);
        }
    }
}
