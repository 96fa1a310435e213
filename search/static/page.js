// Results as you type: after a pause in typing (or at once when the sort or a date
// changes) the page asks the server for itself with the form's values and swaps in
// the new #results, and the address bar follows (history.replaceState). The answer
// is parsed with DOMParser and its nodes moved in, never assigned as HTML. Without
// this script the form is a plain GET and works the same.
(function(){
const form=document.querySelector('form.q'),box=document.getElementById('q');
if(!form||!box||!document.getElementById('results'))return;
const WAIT=250;let timer=null,seq=0;
function target(){const params=new URLSearchParams();
 new FormData(form).forEach(function(v,k){
  if(v!==''&&!(k==='sort'&&v==='relevance'))params.append(k,v);});
 const s=params.toString();return '/'+(s?'?'+s:'');}
function swap(text,url){const doc=new DOMParser().parseFromString(text,'text/html');
 const fresh=doc.getElementById('results'),here=document.getElementById('results');
 if(!fresh||!here)return;
 here.replaceChildren.apply(here,Array.from(fresh.childNodes).map(function(n){
  return document.adoptNode(n);}));
 document.title=doc.title;history.replaceState(null,'',url);}
function refresh(){clearTimeout(timer);const url=target(),mine=++seq;
 fetch(url,{headers:{'Accept':'text/html'}})
  .then(function(r){return r.text();})
  .then(function(text){if(mine===seq)swap(text,url);})
  .catch(function(){});}
box.addEventListener('input',function(){clearTimeout(timer);timer=setTimeout(refresh,WAIT);});
form.querySelectorAll('select,input[type=date]').forEach(function(el){
 el.addEventListener('change',refresh);});
})();
