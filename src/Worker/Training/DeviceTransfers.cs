using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Worker.Training;

/// <summary>
/// The staged path's copies. On CUDA they are <c>non_blocking</c> (asynchronous, the host side being page-locked) and the
/// wait is <c>torch.cuda.synchronize(device)</c>: TorchSharp 0.107 has no stream or event API, so a device-wide
/// synchronisation is the only way to know an asynchronous copy has landed. Anywhere else (the CPU) the copies are
/// plain blocking copies, complete when <c>copy_</c> returns, and there is nothing to wait for.
/// </summary>
internal sealed class DeviceTransfers : IBucketTransfers
{
    private readonly Device _device;
    private readonly bool _asynchronous;

    public DeviceTransfers(Device device)
    {
        _device = device;
        _asynchronous = device.type == DeviceType.CUDA;
    }

    public void ToHost(int bucket, Tensor host, Tensor device) => host.copy_(device, nonBlocking: _asynchronous);

    public void Synchronize(int bucket)
    {
        if (_asynchronous)
        {
            cuda.synchronize(_device);
            // TorchSharp's synchronize leaves a libtorch error in the thread's error slot instead of throwing it; unchecked it
            // would surface at some later, unrelated call.
            CheckForErrors();
        }
    }

    public void ToDevice(int bucket, Tensor device, Tensor host) => device.copy_(host, nonBlocking: _asynchronous);
}
