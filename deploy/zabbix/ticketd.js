// ticketd webhook media type for Zabbix (6.0 and later): posts the event, as
// its parameters resolved it, to ticketd's alert intake (integration type
// zabbix). The parameters are in media_ticketd.yaml, which embeds this
// script; ticketd reads them by name.
try {
    var params = JSON.parse(value),
        req = new HttpRequest(),
        body = {},
        url = params.ticketd_url,
        resp;

    if (typeof url !== 'string' || url.indexOf('http') !== 0) {
        throw 'ticketd_url must be the URL printed by "ticketd admin integration add"';
    }
    for (var key in params) {
        if (params.hasOwnProperty(key) && key !== 'ticketd_url' && key !== 'ticketd_token' && key !== 'HTTPProxy') {
            body[key] = params[key];
        }
    }
    if (params.HTTPProxy) {
        req.setProxy(params.HTTPProxy);
    }
    req.addHeader('Content-Type: application/json');
    if (params.ticketd_token) {
        req.addHeader('Authorization: Bearer ' + params.ticketd_token);
    }
    Zabbix.log(4, '[ticketd] event ' + body.event_id + ' value ' + body.event_value + ' to ' + url);
    resp = req.post(url, JSON.stringify(body));
    if (req.getStatus() !== 200) {
        // 503: ticketd's database was unavailable; Zabbix retries the
        // alert (Attempts, Attempt interval in the media type).
        throw 'ticketd answered ' + req.getStatus() + ': ' + resp;
    }
    return 'OK';
} catch (error) {
    Zabbix.log(3, '[ticketd] notification failed: ' + error);
    throw 'ticketd notification failed: ' + error;
}
