import { getGlobalHalt } from '@tradehook/db';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  dumpRedisPrefix,
  startIngressHarness,
  type IngressHarness,
} from '../../test/support.ts';

/** Logs in through the form; returns the cookie header and the page's CSRF token. */
async function login(h: IngressHarness): Promise<{ cookie: string; csrf: string }> {
  const res = await request(h.app).post('/app/login').type('form').send({ token: ADMIN_TOKEN });
  expect(res.status).toBe(303);
  const setCookie = String(res.headers['set-cookie']);
  const cookie = setCookie.split(';')[0]!;
  const overview = await request(h.app).get('/app').set('Cookie', cookie);
  expect(overview.status).toBe(200);
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(overview.text)?.[1];
  expect(csrf).toBeTruthy();
  return { cookie, csrf: csrf! };
}

describe('dashboard session and CSRF', () => {
  let h: IngressHarness;
  beforeAll(async () => {
    h = await startIngressHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('sends pages without a session to the login page and refuses a wrong token', async () => {
    const page = await request(h.app).get('/app/signals').set('Accept', 'text/html');
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/app/login');
    const events = await request(h.app).get('/app/events').set('Accept', 'text/event-stream');
    expect(events.status).toBe(401);

    const wrong = await request(h.app).post('/app/login').type('form').send({ token: 'not-the-token-0000' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect(wrong.text).toContain('Wrong admin token');
  });

  it('exchanges the token for an httpOnly SameSite=Strict cookie that does not hold the token', async () => {
    const res = await request(h.app).post('/app/login').type('form').send({ token: ADMIN_TOKEN });
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(
      /^tradehook_session=[\w-]+\.[\w-]+; Path=\/app; HttpOnly; SameSite=Strict; Max-Age=28800$/,
    );
    expect(setCookie).not.toContain(ADMIN_TOKEN);
    expect(await dumpRedisPrefix(h.prefix)).not.toContain(ADMIN_TOKEN);
    expect(h.logs.text()).not.toContain(ADMIN_TOKEN);
  });

  it('refuses a state change without the CSRF token, with a wrong one or from another origin', async () => {
    const { cookie, csrf } = await login(h);
    const attempts = [
      { confirm: 'yes', action: 'halt' },
      { confirm: 'yes', action: 'halt', _csrf: 'forged-token' },
    ];
    for (const form of attempts) {
      const res = await request(h.app).post('/app/kill-switch').set('Cookie', cookie).type('form').send(form);
      expect(res.status).toBe(403);
      expect(res.text).toContain('CSRF check failed');
    }
    const crossSite = await request(h.app)
      .post('/app/kill-switch')
      .set('Cookie', cookie)
      .set('Origin', 'https://evil.example')
      .type('form')
      .send({ confirm: 'yes', action: 'halt', _csrf: csrf });
    expect(crossSite.status).toBe(403);
    expect((await getGlobalHalt(h.deps.pgPool)).halted).toBe(false);

    const ok = await request(h.app)
      .post('/app/kill-switch')
      .set('Cookie', cookie)
      .type('form')
      .send({ confirm: 'yes', action: 'halt', reason: 'test', _csrf: csrf });
    expect(ok.status).toBe(303);
    expect((await getGlobalHalt(h.deps.pgPool)).halted).toBe(true);
    await request(h.app)
      .post('/app/kill-switch')
      .set('Cookie', cookie)
      .type('form')
      .send({ confirm: 'yes', action: 'resume', _csrf: csrf });
    expect((await getGlobalHalt(h.deps.pgPool)).halted).toBe(false);
  });

  it('refuses a cookie with a forged signature, and a session after logout', async () => {
    const { cookie, csrf } = await login(h);
    const forged = cookie.replace(/\.[\w-]+$/, '.AAAA');
    const page = await request(h.app).get('/app').set('Cookie', forged).set('Accept', 'text/html');
    expect(page.headers.location).toBe('/app/login?expired=1');

    const out = await request(h.app)
      .post('/app/logout')
      .set('Cookie', cookie)
      .type('form')
      .send({ _csrf: csrf });
    expect(out.status).toBe(303);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    const after = await request(h.app).get('/app').set('Cookie', cookie).set('Accept', 'text/html');
    expect(after.status).toBe(303);
    expect(after.headers.location).toBe('/app/login?expired=1');
  });
});

describe('dashboard session expiry', () => {
  let h: IngressHarness;
  beforeAll(async () => {
    h = await startIngressHarness({ DASHBOARD_SESSION_TTL_SECONDS: '1' });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('ends the session after its lifetime: pages go to login, actions are refused and change nothing', async () => {
    const { cookie, csrf } = await login(h);
    await new Promise((r) => setTimeout(r, 1500));
    const page = await request(h.app).get('/app').set('Cookie', cookie).set('Accept', 'text/html');
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/app/login?expired=1');
    const action = await request(h.app)
      .post('/app/kill-switch')
      .set('Cookie', cookie)
      .type('form')
      .send({ confirm: 'yes', action: 'halt', _csrf: csrf });
    expect(action.status).toBe(401);
    expect((await getGlobalHalt(h.deps.pgPool)).halted).toBe(false);
  });
});
