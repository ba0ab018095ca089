"""SE-ResNet on torchvision's ResNet with timm's SE layout (se.fc1 / se.fc2 as 1x1 convolutions, bias on).

The SE block sits on the residual branch after the last BN and before the addition, registered between
the last BN and `downsample` so state_dict keys come in timm's order. Used as the PyTorch side of
Plateau's benchmarks and to generate the expected key lists of Plateau's tests.
"""
import torch
from torch import nn
from torchvision.models import resnet


class SEModule(nn.Module):
    def __init__(self, channels, reduction=16):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc1 = nn.Conv2d(channels, hidden, 1, bias=True)
        self.fc2 = nn.Conv2d(hidden, channels, 1, bias=True)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        s = torch.relu(self.fc1(s))
        return x * torch.sigmoid(self.fc2(s))


def _with_se(block_type, last_bn):
    class SEBlock(block_type):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            channels = getattr(self, last_bn).num_features
            downsample = self._modules.pop("downsample", None)
            self.se = SEModule(channels)
            if downsample is not None:
                self._modules["downsample"] = downsample

        def forward(self, x):
            identity = x
            if isinstance(self, resnet.Bottleneck):
                out = self.relu(self.bn1(self.conv1(x)))
                out = self.relu(self.bn2(self.conv2(out)))
                out = self.bn3(self.conv3(out))
            else:
                out = self.relu(self.bn1(self.conv1(x)))
                out = self.bn2(self.conv2(out))
            out = self.se(out)
            if self.downsample is not None:
                identity = self.downsample(x)
            return self.relu(out + identity)

    return SEBlock


SEBasicBlock = _with_se(resnet.BasicBlock, "bn2")
SEBottleneck = _with_se(resnet.Bottleneck, "bn3")

LAYERS = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3]}


def se_resnet(depth, num_classes=1000):
    block = SEBasicBlock if depth < 50 else SEBottleneck
    return resnet.ResNet(block, LAYERS[depth], num_classes=num_classes)


def multiply_adds(model, size=224):
    """Conv + linear multiply-adds of one forward pass for one image, counted with forward hooks."""
    total = [0]

    def conv_hook(m, inputs, output):
        total[0] += output[0].numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear_hook(m, inputs, output):
        total[0] += m.in_features * m.out_features

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    for h in handles:
        h.remove()
    return total[0]
