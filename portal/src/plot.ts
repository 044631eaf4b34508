// A small time-series plot (SVG, no library): the last N samples of one
// figure against its cap, with the latest value as text for screen readers.
const NS = 'http://www.w3.org/2000/svg';
const W = 240;
const H = 60;

export class Plot {
  readonly el: HTMLElement;
  private readonly samples: number[] = [];
  private readonly svg: SVGSVGElement;
  private readonly line: SVGPolylineElement;
  private readonly capLine: SVGLineElement;
  private readonly value: HTMLElement;

  constructor(
    readonly title: string,
    private readonly format: (n: number) => string,
    private readonly keep = 60,
  ) {
    this.svg = document.createElementNS(NS, 'svg');
    this.svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    this.svg.setAttribute('preserveAspectRatio', 'none');
    this.svg.setAttribute('aria-hidden', 'true');
    this.capLine = document.createElementNS(NS, 'line');
    this.capLine.setAttribute('class', 'cap');
    this.line = document.createElementNS(NS, 'polyline');
    this.line.setAttribute('class', 'series');
    this.svg.append(this.capLine, this.line);
    this.value = document.createElement('p');
    this.value.className = 'plot-value';
    const fig = document.createElement('figure');
    fig.className = 'plot';
    const cap = document.createElement('figcaption');
    cap.textContent = title;
    fig.append(cap, this.svg, this.value);
    this.el = fig;
  }

  push(v: number, cap: number | null): void {
    this.samples.push(v);
    if (this.samples.length > this.keep) this.samples.shift();
    const top = Math.max(cap ?? 0, ...this.samples, 1) * 1.1;
    const y = (n: number) => (H - (n / top) * H).toFixed(1);
    const step = W / (this.keep - 1);
    const x0 = W - (this.samples.length - 1) * step;
    const points = this.samples.map((s, i) => `${(x0 + i * step).toFixed(1)},${y(s)}`);
    // One sample is a point, which a polyline does not draw: a step's length of it then.
    if (points.length === 1) points.unshift(`${(W - step).toFixed(1)},${y(this.samples[0]!)}`);
    this.line.setAttribute('points', points.join(' '));
    if (cap !== null) {
      this.capLine.setAttribute('x1', '0');
      this.capLine.setAttribute('x2', String(W));
      this.capLine.setAttribute('y1', y(cap));
      this.capLine.setAttribute('y2', y(cap));
      this.capLine.removeAttribute('visibility');
    } else this.capLine.setAttribute('visibility', 'hidden');
    this.el.dataset.samples = String(this.samples.length);
    this.value.textContent = `${this.format(v)} of ${cap === null ? 'no cap' : this.format(cap)}`;
  }
}
